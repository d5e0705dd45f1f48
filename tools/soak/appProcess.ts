import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

export interface AppProcessOptions {
  /** Arguments to `node`: the local host's entry point, and whatever loads it. */
  nodeArgs: readonly string[];
  /** The app's whole environment. */
  env: Readonly<Record<string, string>>;
  cwd: string;
  /** Each start writes its stdout and stderr to `<logName>-<n>.log` here. */
  logDir: string;
  /** `app` by default; instances sharing a log directory need one each. */
  logName?: string;
  port: number;
  startTimeoutMs?: number;
}

/**
 * The app (the local host, on Service Bus and Table Storage) in a process of its own, so that it can be killed
 * with SIGKILL mid-job and started again on the same port, as a crashed Functions worker is.
 */
export class AppProcess {
  readonly url: string;
  /** One per start, oldest first: which process ran what can be read from them. */
  readonly logFiles: string[] = [];
  /** The logs of processes that exited without being told to: a crash is a finding of its own. */
  readonly crashes: string[] = [];
  private child: ChildProcess | undefined;
  private ending = false;
  private exited: Promise<void> | undefined;

  constructor(private readonly options: AppProcessOptions) {
    this.url = `http://127.0.0.1:${options.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('The app is already running.');
    const logFile = join(
      this.options.logDir,
      `${this.options.logName ?? 'app'}-${this.logFiles.length + 1}.log`,
    );
    this.logFiles.push(logFile);
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, [...this.options.nodeArgs], {
      cwd: this.options.cwd,
      env: { ...this.options.env, PORT: String(this.options.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const closed = once(child, 'close').then(() => {
      if (this.child !== child) return;
      this.child = undefined;
      if (!this.ending) this.crashes.push(logFile);
    });
    this.exited = closed.then(() => new Promise<void>((resolve) => log.end(resolve)));
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`The app did not start within ${timeoutMs} ms`)),
          timeoutMs,
        );
        // A plain listener beside the pipe to the log file (readline would pause stdout when closed).
        let seen = '';
        const onData = (chunk: Buffer): void => {
          seen = (seen + chunk.toString('utf8')).slice(-65_536);
          if (!seen.includes('"message":"Local host listening"')) return;
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          resolve();
        };
        child.stdout?.on('data', onData);
        void closed.then(() => {
          clearTimeout(timer);
          reject(new Error(`The app exited during start-up; see ${logFile}`));
        });
      });
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  /** SIGKILL: no shutdown code runs, in-flight jobs and locks are simply abandoned. */
  async kill(): Promise<void> {
    await this.end('SIGKILL');
  }

  /** SIGTERM: the app drains and closes; SIGKILL if it has not exited after `timeoutMs`. */
  async stop(timeoutMs = 45_000): Promise<void> {
    const killer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    try {
      await this.end('SIGTERM');
    } finally {
      clearTimeout(killer);
    }
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.ending = true;
    try {
      child.kill(signal);
      await this.exited;
    } finally {
      this.ending = false;
    }
  }
}
