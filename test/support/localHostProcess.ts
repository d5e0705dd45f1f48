import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const root = resolve(__dirname, '..', '..');

export interface LocalHostProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Every line it printed on stdout so far (its log lines). */
  readonly stdoutLines: readonly string[];
  /**
   * Ends the process with `signal` and resolves with its exit code. Started as a process group, the signal goes to
   * the whole group, as a terminal's Ctrl+C does to the command it runs.
   */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

export interface LocalModeOptions {
  /** In a process group of its own, as a terminal runs a command. */
  group?: boolean;
}

/** A local mode's entry point in its own process, from the TypeScript sources. */
export function spawnLocalMode(
  entry: 'main' | 'mainServiceBus',
  env: Record<string, string>,
  { group = false }: LocalModeOptions = {},
): ChildProcess {
  return spawn(
    process.execPath,
    ['-r', resolve(__dirname, 'registerTypeScript.js'), resolve(root, `tools/local-host/${entry}.ts`)],
    // Info, whatever the settings say: readiness is read from the "Local host listening" line.
    {
      cwd: root,
      env: { ...process.env, ...env, Jobs__LogLevel: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: group,
    },
  );
}

/**
 * `npm start`'s entry point (or `npm run start:servicebus`'s) in its own process, from the TypeScript sources, on a
 * free port unless `env` names one.
 */
export async function startLocalHostProcess(
  env: Record<string, string>,
  entry: 'main' | 'mainServiceBus' = 'main',
  options: LocalModeOptions = {},
): Promise<LocalHostProcess> {
  const child = spawnLocalMode(entry, { PORT: '0', ...env }, options);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const stdoutLines: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => stdoutLines.push(line));
  const url = await new Promise<string>((resolveUrl, reject) => {
    lines.on('line', (line) => {
      const url = /"message":"Local host listening".*?"url":"([^"]+)\/api"/.exec(line)?.[1];
      if (url) resolveUrl(url);
    });
    void exited.then((code) => reject(new Error(`local host exited with ${code}: ${stderr.join('')}`)));
  });
  const closed = new Promise<void>((resolveClosed) => lines.once('close', () => resolveClosed()));
  return {
    url,
    child,
    stdoutLines,
    stop: async (signal) => {
      if (options.group) process.kill(-child.pid!, signal);
      else child.kill(signal);
      const code = await exited;
      await closed;
      return code;
    },
  };
}
