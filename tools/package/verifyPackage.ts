import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface PackageCheck {
  readonly entry: string;
  readonly appModules: number;
  /** Packages the app's code names, each loaded from the package. */
  readonly packages: readonly string[];
  readonly applicationInsights: 'started';
}

/**
 * Loads the app from the package directory in a fresh Node process (`loadPackagedApp.js`, compiled next to this
 * file): the entry the host loads, every compiled module of the app, every package it names, and Application
 * Insights started. `packageDir` must lie outside the project, so that nothing resolves from the project's own
 * node_modules. Throws with the child's error output when anything fails to load.
 */
export function verifyPackage(packageDir: string, loaderDir: string = __dirname): PackageCheck {
  const env = { ...process.env };
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  const result = spawnSync(process.execPath, [join(loaderDir, 'loadPackagedApp.js'), packageDir], {
    cwd: packageDir,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `The app does not load from the package in ${packageDir}:\n${result.stderr || result.error?.message}`,
    );
  }
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as PackageCheck;
}
