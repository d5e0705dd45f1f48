import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { ServiceDetails, ServiceMessage } from './serviceMessages';
import { STOP } from './serviceMessages';

export interface ServiceProcess<Details extends ServiceDetails> {
  /** What it reported once listening (its ports, endpoints, connection string). */
  readonly details: Details;
  readonly pid: number;
  /** Asks it to stop and resolves once it has exited (killed if it has not within `stopTimeoutMs`). */
  stop(): Promise<void>;
}

export interface ServiceProcessOptions {
  /**
   * Node options for the child; by default this process's own (a TypeScript loader, `--cpu-prof`), less an inspector's,
   * whose port is this process's.
   */
  execArgv?: readonly string[];
  /** Where its output goes, each line prefixed with `[name]`; by default this process's stdout and stderr. */
  stdout?: Writable;
  stderr?: Writable;
  stopTimeoutMs?: number;
}

/** A failed start, as the service reported it: `code` and `port` are those of a `listen` error (`EADDRINUSE`). */
export class ServiceStartError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly port?: number,
  ) {
    super(message);
    this.name = 'ServiceStartError';
  }
}

/**
 * Runs a service's entry point (one that calls `runService`) in a Node process of its own and resolves once it
 * listens, with what it reported. The service stops when `stop` is called or when this process ends, however it
 * ends. A start that fails rejects with a `ServiceStartError` carrying the service's own message, code and port.
 */
export async function startServiceProcess<Details extends ServiceDetails>(
  name: string,
  entry: string,
  args: readonly string[] = [],
  {
    execArgv = process.execArgv.filter((option) => !/^--inspect/.test(option)),
    stdout = process.stdout,
    stderr = process.stderr,
    stopTimeoutMs = 10_000,
  }: ServiceProcessOptions = {},
): Promise<ServiceProcess<Details>> {
  const child = spawn(process.execPath, [...execArgv, entry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const exited = once(child, 'exit');
  forwardLines(child, 'stdout', stdout, name);
  forwardLines(child, 'stderr', stderr, name);
  const report = await new Promise<ServiceMessage>((resolve, reject) => {
    child.once('message', (message) => resolve(message as ServiceMessage));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new ServiceStartError(`${name} exited (${signal ?? `code ${code}`}) before it was ready.`)),
    );
  });
  if (report.kind === 'failed') {
    await exited;
    throw new ServiceStartError(`${name} did not start: ${report.message}`, report.code, report.port);
  }
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) stderr.write(`[${name}] exited (${signal ?? `code ${code}`}) while the app still runs\n`);
  });
  return {
    details: report.details as Details,
    pid: child.pid!,
    stop: async () => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send(STOP);
      else child.kill('SIGTERM');
      const deadline = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      await exited;
      clearTimeout(deadline);
    },
  };
}

/** Copies a child's output line by line, prefixed with `[name]` unless the line already says it. */
function forwardLines(child: ChildProcess, stream: 'stdout' | 'stderr', to: Writable, name: string): void {
  const prefix = `[${name}]`;
  createInterface({ input: child[stream]! }).on('line', (line) => {
    to.write(line.startsWith(prefix) ? `${line}\n` : `${prefix} ${line}\n`);
  });
}
