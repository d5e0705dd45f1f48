import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI (`tools/<name>/main.ts`, as `npm run <name>` runs it) from the TypeScript sources, in its own process. */
export function runCliProcess(
  tool: 'dlq' | 'jobs',
  args: string[],
  env: Record<string, string>,
): Promise<CliRun> {
  const child = spawn(
    process.execPath,
    ['-r', resolve(__dirname, 'registerTypeScript.js'), resolve(root, `tools/${tool}/main.ts`), ...args],
    { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolveRun) => child.once('close', (code) => resolveRun({ code, stdout, stderr })));
}
