import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { settingNames } from '../../src/config';
import type { Scenario, ScenarioReport } from './loadPackagedApp';

export type { Registration, Scenario, ScenarioReport } from './loadPackagedApp';

/**
 * Loads the package in a fresh Node process (`loadPackagedApp.js`, compiled next to this file) under a stand-in for
 * the Functions worker, with `settings` as its app settings, and runs `scenario` through the functions it registers.
 * `packageDir` must lie outside the project, so that nothing resolves from the project's own node_modules. Rejects
 * with the child's error output when the scenario fails.
 */
export function verifyPackage(
  packageDir: string,
  scenario: Scenario,
  settings: Record<string, string>,
  loaderDir: string = __dirname,
): Promise<ScenarioReport> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...settings };
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  // The scenario's app settings only: none of the caller's own leak into the check.
  for (const name of settingNames) if (!(name in settings)) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(loaderDir, 'loadPackagedApp.js'), packageDir, scenario], {
      cwd: packageDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = stdout.trim().split('\n');
      if (code !== 0) {
        reject(
          new Error(
            `The ${scenario} check of the package in ${packageDir} failed:\n${stderr || lines.slice(-20).join('\n')}`,
          ),
        );
        return;
      }
      resolve(JSON.parse(lines[lines.length - 1]!) as ScenarioReport);
    });
  });
}
