export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogEntryLevel = Exclude<LogLevel, 'silent'>;
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * `json`: one JSON object per line, the shape log pipelines ingest as is. `pretty`: one short line for a person at a
 * terminal (`12:04:05.123 INFO  Job completed jobId=… attempt=1`).
 */
export type LogFormat = 'json' | 'pretty';

/** Where formatted lines go; the level lets a writer route them (to stderr, or to the Functions host's levels). */
export type LogWriter = (line: string, level: LogEntryLevel) => void;

/** Structured logging: every line about a job carries jobId, jobType, attempt and correlationId as fields. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  format?: LogFormat;
  write?: LogWriter;
  /** Fields on every line. */
  base?: LogFields;
}

const severity: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** `auto` settles on `pretty` when the output is a terminal, `json` when it goes to a file, a pipe or a host. */
export function resolveLogFormat(format: LogFormat | 'auto', output: { isTTY?: boolean }): LogFormat {
  return format === 'auto' ? (output.isTTY ? 'pretty' : 'json') : format;
}

export const writeToStdout: LogWriter = (line) => process.stdout.write(`${line}\n`);

export function createLogger(
  level: LogLevel,
  { format = 'json', write = writeToStdout, base = {} }: LoggerOptions = {},
): Logger {
  return new FieldLogger(severity[level], format === 'json' ? jsonLine : prettyLine, write, base);
}

type FormatLine = (level: LogEntryLevel, message: string, base: LogFields, fields?: LogFields) => string;

// A class, not closures: the dispatcher makes a child logger per job, so children must be cheap.
class FieldLogger implements Logger {
  constructor(
    private readonly threshold: number,
    private readonly format: FormatLine,
    private readonly write: LogWriter,
    private readonly base: LogFields,
  ) {}

  debug(message: string, fields?: LogFields): void {
    this.log('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.log('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.log('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.log('error', message, fields);
  }

  child(fields: LogFields): Logger {
    return new FieldLogger(this.threshold, this.format, this.write, { ...this.base, ...fields });
  }

  private log(level: LogEntryLevel, message: string, fields?: LogFields): void {
    if (severity[level] < this.threshold) return;
    this.write(this.format(level, message, this.base, fields), level);
  }
}

function jsonLine(level: LogEntryLevel, message: string, base: LogFields, fields?: LogFields): string {
  return JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields });
}

// The app name is the same on every line, and a person at the terminal knows which app they started; empty
// fields (an unset correlation id) say nothing.
const unprintedFields = new Set(['app']);

function prettyLine(level: LogEntryLevel, message: string, base: LogFields, fields?: LogFields): string {
  const time = new Date().toISOString().slice(11, 23);
  let line = `${time} ${level.toUpperCase().padEnd(5)} ${message}`;
  for (const [name, value] of Object.entries({ ...base, ...fields })) {
    if (value === undefined || value === '' || unprintedFields.has(name)) continue;
    line += ` ${name}=${printable(value)}`;
  }
  return line;
}

function printable(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=,]+$/.test(value) ? value : JSON.stringify(value);
  if (Array.isArray(value) && value.every((item) => typeof item !== 'object'))
    return value.map(printable).join(',');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

export const silentLogger: Logger = createLogger('silent');
