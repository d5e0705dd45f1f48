import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BundledApp } from './bundleApp';
import { bundleApp, bundleEntry } from './bundleApp';
import { filesBelow } from './filesBelow';
import { alwaysLeftOut, parseIgnoreRules } from './funcignore';

export interface AssembledPackage {
  /** The package directory: what azd and `func azure functionapp publish` upload, unzipped. */
  readonly dir: string;
  /** Every file in it, relative, with `/`, sorted. */
  readonly files: readonly string[];
  /** The app and its production dependencies, bundled (dist/bundle). */
  readonly bundle: BundledApp;
  /** Files the two readings of `.funcignore` (Core Tools, gitignore) disagree on; the Core Tools reading decides. */
  readonly readingsDisagree: readonly string[];
}

/**
 * Builds, in the empty directory `into`, the deployment package of the project at `root`: the project files
 * `.funcignore` keeps (Core Tools' reading, less the files Core Tools and azd always leave out), its package.json
 * pointed at the bundle, and the bundle itself: the compiled app and every production dependency it loads, in a few
 * files (`bundleApp`). `node_modules` is never copied: the bundle holds what the app needs of it. `root` must be
 * built (`npm run build`): the bundle is made from dist/src.
 */
export async function assemblePackage(root: string, into: string): Promise<AssembledPackage> {
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
  for (const path of filesBelow(root, '', (dir) => dir === 'node_modules' || dir === '.git')) {
    if (!keeps(path) || path === 'package.json') continue;
    mkdirSync(dirname(join(into, path)), { recursive: true });
    copyFileSync(join(root, path), join(into, path));
  }
  writeFileSync(join(into, 'package.json'), `${JSON.stringify(packageManifest(root), null, 2)}\n`);
  const bundle = await bundleApp(root, into);
  return { dir: into, files: filesBelow(into, '').sort(), bundle, readingsDisagree: disagree };
}

/**
 * The package's package.json: the Functions worker reads `main` (and `type`) only. No dependency lists and no
 * scripts: the bundle holds the dependencies, and nothing is installed or built on the platform.
 */
function packageManifest(root: string): Record<string, unknown> {
  const project = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const { name, version, private: isPrivate, description, engines } = project;
  return { name, version, private: isPrivate, description, main: bundleEntry, engines };
}
