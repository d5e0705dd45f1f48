import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's interpreter: the packages below are installed for it, not for a pyenv or venv python. */
const PYTHON = '/usr/bin/python3';
const MODULES = ['azure.servicebus', 'uamqp', 'proton'];
const INSTALL_HINT = 'apt-get install -y python3-azure python3-qpid-proton';

/** What a client script printed: one JSON object per step, keyed by its `step`. */
export type ClientSteps = Record<string, Record<string, unknown>>;

/**
 * Runs one of the scripts in `test/emulator/python/` (asynchronously: the emulator it talks to runs in this
 * process) and returns its steps; fails with the script's stderr when it exits with an error.
 */
export async function runPythonClient(
  script: string,
  args: string[],
  timeoutMs = 110_000,
): Promise<ClientSteps> {
  await requireModules();
  const { stdout } = await run([join(__dirname, 'python', script), ...args], timeoutMs);
  const steps: ClientSteps = {};
  for (const line of stdout.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    const step = JSON.parse(line) as { step: string };
    steps[step.step] = step;
  }
  return steps;
}

/** The emulator's certificate in a file, for a client to trust; removed by the returned function. */
export function writeCertificate(pem: string): { path: string; remove(): void } {
  const directory = mkdtempSync(join(tmpdir(), 'servicebus-emulator-ca-'));
  const path = join(directory, 'ca.pem');
  writeFileSync(path, pem);
  return { path, remove: () => rmSync(directory, { recursive: true, force: true }) };
}

let checked: Promise<void> | undefined;

function requireModules(): Promise<void> {
  checked ??= run(['-c', `import ${MODULES.join(', ')}`], 30_000).then(
    () => undefined,
    (error: unknown) => {
      throw new Error(
        `These tests drive the emulator with Microsoft's Python SDK and Apache Qpid Proton, from ${PYTHON}. ` +
          `Install them with: ${INSTALL_HINT}\n${String(error)}`,
      );
    },
  );
  return checked;
}

function run(args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${PYTHON} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}
