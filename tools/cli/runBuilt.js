'use strict';
// `node tools/cli/runBuilt.js <tool> [args…]`: runs `dist/tools/<tool>/main.js`, compiling first only when a source
// is newer than the last build. Plain JavaScript because it must run before anything is compiled; the npm scripts
// of the CLIs go through it, so a call with `dist/` current costs a Node start-up, not a `tsc` run.
const { spawnSync } = require('node:child_process');
const { readdirSync, statSync, utimesSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = resolve(__dirname, '..', '..');
/** What `tsconfig.build.json` compiles, and the files that change how it compiles. */
const SOURCE_DIRECTORIES = ['src', 'tools', 'bench', 'examples'];
const BUILD_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];
const BUILD_INFO = join(root, 'dist', '.tsbuildinfo');

/** The latest modification time of a TypeScript source or build setting under `projectRoot`, in ms. */
function newestSourceTime(projectRoot) {
  let newest = 0;
  const visit = (path) => {
    let entries;
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) visit(child);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(child).mtimeMs);
    }
  };
  for (const directory of SOURCE_DIRECTORIES) visit(join(projectRoot, directory));
  for (const file of BUILD_FILES) newest = Math.max(newest, modifiedAt(join(projectRoot, file)));
  return newest;
}

function modifiedAt(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Whether `dist/` is older than a source (or missing). */
function isStale(projectRoot = root) {
  return newestSourceTime(projectRoot) > modifiedAt(join(projectRoot, 'dist', '.tsbuildinfo'));
}

function build() {
  process.stderr.write('Sources changed since the last build: compiling (npm run build)…\n');
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
  // tsc leaves its build info untouched when nothing it emits changed; marked now, an unchanged source that was
  // merely touched is not compiled again on every call.
  const now = new Date();
  utimesSync(BUILD_INFO, now, now);
}

if (require.main === module) {
  const [tool, ...args] = process.argv.slice(2);
  if (!tool) {
    process.stderr.write('usage: node tools/cli/runBuilt.js <tool> [args…]\n');
    process.exit(2);
  }
  if (isStale()) build();
  const main = join(root, 'dist', 'tools', tool, 'main.js');
  process.argv = [process.argv[0], main, ...args];
  require(main);
}

module.exports = { isStale };
