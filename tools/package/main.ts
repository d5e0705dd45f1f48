import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AssembledPackage } from './assemblePackage';
import { assemblePackage } from './assemblePackage';
import { checkPackage } from './checkPackage';
import { zipFiles } from './zipFiles';

const usage =
  'Usage: npm run package:size [-- --out <dir>] [--zip <file>]\n' +
  '  Builds the deployment package as azd and Core Tools upload it (the app and its production dependencies bundled\n' +
  '  with esbuild, .funcignore applied as Core Tools reads it), runs a job through it under a stand-in for the\n' +
  '  Functions worker, zips it and prints its size.\n' +
  '  --out <dir>   also leave the package directory there (azure.yaml deploys dist/package)\n' +
  '  --zip <file>  also leave the zip there';

const root = resolve(__dirname, '..', '..', '..');

function megabytes(bytes: number): string {
  return bytes < 100_000 ? `${(bytes / 1_000).toFixed(1)} kB` : `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** A previous package may be replaced; any other non-empty directory is refused, before anything is built. */
function assertReplaceable(out: string): void {
  if (!existsSync(out) || readdirSync(out).length === 0) return;
  const packageJson = join(out, 'package.json');
  const ours = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name;
  if (!existsSync(packageJson) || JSON.parse(readFileSync(packageJson, 'utf8')).name !== ours) {
    throw new Error(`${out} is not empty and holds no earlier package of ${ours}; not replacing it.`);
  }
}

function bundleSizes(assembled: AssembledPackage): string {
  return assembled.bundle.files
    .filter((path) => path.endsWith('.js'))
    .map((path) => {
      const bytes = readFileSync(join(assembled.dir, path)).length;
      return `${path.slice(path.lastIndexOf('/') + 1)} ${megabytes(bytes)}`;
    })
    .join(', ');
}

async function main(): Promise<number> {
  let values: { out?: string; zip?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: { out: { type: 'string' }, zip: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!existsSync(join(root, 'dist', 'src', 'index.js'))) {
    console.error('dist/src/index.js is missing: run `npm run build` first.');
    return 1;
  }
  const out = values.out ? resolve(values.out) : undefined;
  if (out) assertReplaceable(out);
  // Outside the project, so that loading the app from the package cannot fall back on the project's node_modules.
  const scratch = mkdtempSync(join(tmpdir(), 'sdap-jobs-package-'));
  try {
    const started = Date.now();
    const assembled = await assemblePackage(root, join(scratch, 'package'));
    const check = await checkPackage(assembled);
    const zipPath = values.zip ? resolve(values.zip) : join(scratch, 'package.zip');
    const zip = zipFiles(zipPath, assembled.dir, assembled.files);

    console.log('Deployment package (what azd and `func azure functionapp publish` upload):');
    console.log(`  zipped       ${megabytes(zip.bytes)} (${megabytes(zip.uncompressedBytes)} unzipped)`);
    console.log(`  files        ${zip.entries} (${assembled.files.join(', ')})`);
    console.log(`  bundle       ${bundleSizes(assembled)}; source maps beside them`);
    console.log(
      `  loads        ${check.entry} in ${check.loadMs} ms: ${check.registrations} functions registered, ` +
        `${check.loadedAtStartUp.join(', ')} read`,
    );
    console.log(`  runs         ${check.jobs}`);
    if (assembled.readingsDisagree.length > 0) {
      console.log(
        `  warning      Core Tools and azd (gitignore) read .funcignore differently for ` +
          `${assembled.readingsDisagree.length} files, e.g. ${assembled.readingsDisagree.slice(0, 3).join(', ')}`,
      );
    }
    console.log(`  took         ${Math.round((Date.now() - started) / 1000)} s`);
    if (values.zip) console.log(`  zip          ${zipPath}`);
    if (out) {
      rmSync(out, { recursive: true, force: true });
      cpSync(assembled.dir, out, { recursive: true, verbatimSymlinks: true });
      console.log(`  directory    ${out}`);
    }
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
