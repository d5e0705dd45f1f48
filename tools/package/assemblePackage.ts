import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { filesBelow } from './filesBelow';
import { alwaysLeftOut, parseIgnoreRules } from './funcignore';

export interface AssembledPackage {
  /** The package directory: what `func azure functionapp publish` and azd upload, unzipped. */
  readonly dir: string;
  /** Every file in it, relative, with `/`, sorted. */
  readonly files: readonly string[];
  /** Files the production install brought that `.funcignore` leaves out of the package. */
  readonly leftOutOfNodeModules: readonly string[];
  /** Files the two readings of `.funcignore` (Core Tools, gitignore) disagree on; the Core Tools reading decides. */
  readonly readingsDisagree: readonly string[];
}

/**
 * Builds, in the empty directory `into`, the deployment package of the project at `root`, as Core Tools builds it:
 * every project file `.funcignore` keeps (Core Tools' reading, and the files Core Tools and azd always leave out),
 * with `node_modules` replaced by a production install from the lock file (`npm ci --omit=dev`), filtered by
 * `.funcignore` too. `root` must be built (`npm run build`): the package holds `dist/`, not the sources.
 */
export function assemblePackage(root: string, into: string): AssembledPackage {
  const ignoreFile = join(root, '.funcignore');
  const rules = parseIgnoreRules(existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : '');
  const disagree: string[] = [];
  const keeps = (path: string) => {
    if (alwaysLeftOut(path)) return false;
    const denied = rules.coreToolsDenies(path);
    if (denied !== rules.gitignoreDenies(path)) disagree.push(path);
    return !denied;
  };

  mkdirSync(into, { recursive: true });
  if (readdirSync(into).length > 0) throw new Error(`${into} is not empty.`);
  // The project's own node_modules holds the dev tools too; the package gets a production install instead.
  for (const path of filesBelow(root, '', (dir) => dir === 'node_modules' || dir === '.git')) {
    if (!keeps(path)) continue;
    mkdirSync(dirname(join(into, path)), { recursive: true });
    copyFileSync(join(root, path), join(into, path));
  }
  if (!existsSync(join(into, 'package-lock.json'))) {
    copyFileSync(join(root, 'package-lock.json'), join(into, 'package-lock.json'));
  }
  installProductionDependencies(root, into);
  // `npm ci` needs the lock file; Core Tools would upload it only if .funcignore keeps it.
  if (!keeps('package-lock.json')) rmSync(join(into, 'package-lock.json'));

  const leftOutOfNodeModules: string[] = [];
  for (const path of filesBelow(into, 'node_modules')) {
    if (keeps(path)) continue;
    rmSync(join(into, path));
    leftOutOfNodeModules.push(path);
  }
  return {
    dir: into,
    files: filesBelow(into, '').sort(),
    leftOutOfNodeModules,
    readingsDisagree: disagree,
  };
}

function installProductionDependencies(root: string, into: string): void {
  const npmrc = join(root, '.npmrc');
  if (existsSync(npmrc)) copyFileSync(npmrc, join(into, '.npmrc'));
  const windows = process.platform === 'win32';
  const result = spawnSync(
    windows ? 'npm.cmd' : 'npm',
    ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    { cwd: into, encoding: 'utf8', shell: windows, env: { ...process.env, NODE_ENV: 'production' } },
  );
  if (result.status !== 0) {
    throw new Error(`npm ci --omit=dev failed in ${into}:\n${result.stderr || result.error?.message}`);
  }
  if (existsSync(npmrc)) rmSync(join(into, '.npmrc'));
}
