import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AssembledPackage } from '../../tools/package/assemblePackage';
import { assemblePackage } from '../../tools/package/assemblePackage';
import { findReachableLeftOuts } from '../../tools/package/leftOutReachability';
import { verifyPackage } from '../../tools/package/verifyPackage';
import { filesBelow } from './filesBelow';

// The package `npm run package:size` measures and azure.yaml deploys, built for real: .funcignore applied to the
// project, `npm ci --omit=dev` from the lock file (the npm registry or its cache), the app loaded from the result.
const root = join(__dirname, '..', '..');
const compiledTools = join(root, 'dist', 'tools', 'package');
let scratch: string;
let assembled: AssembledPackage;

/** `npm run build` when dist/ is missing or older than a source: the package holds dist/, not the sources. */
function buildIfStale(): void {
  const entry = join(root, 'dist', 'src', 'index.js');
  const loader = join(compiledTools, 'loadPackagedApp.js');
  const sources = [...filesBelow(root, 'src'), ...filesBelow(root, 'tools/package')];
  const newest = Math.max(...sources.map((path) => statSync(join(root, path)).mtimeMs));
  if (
    existsSync(entry) &&
    existsSync(loader) &&
    Math.min(statSync(entry).mtimeMs, statSync(loader).mtimeMs) >= newest
  )
    return;
  // Type errors elsewhere do not stop tsc from emitting; what this test needs is checked right after.
  spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'pipe',
  });
  expect([existsSync(entry), existsSync(loader)]).toEqual([true, true]);
}

beforeAll(() => {
  buildIfStale();
  scratch = mkdtempSync(join(tmpdir(), 'sdap-jobs-package-test-'));
  assembled = assemblePackage(root, join(scratch, 'package'));
}, 300_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the deployment package', () => {
  it('holds the compiled app, its settings and production dependencies, and no dev dependency', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devPackages = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.dev)
      .map(([path]) => `${path}/package.json`);
    const files = new Set(assembled.files);

    expect(['package.json', 'host.json', 'dist/src/index.js'].filter((path) => !files.has(path))).toEqual([]);
    expect(
      assembled.files.filter((path) => /^(src|test|tools|infra|docs)\/|^local\.settings\.json$/.test(path)),
    ).toEqual([]);
    expect(devPackages.length).toBeGreaterThan(0);
    expect(devPackages.filter((path) => files.has(path))).toEqual([]);
  });

  it('leaves out no dependency file that a package entry point or a kept module reaches', () => {
    expect(assembled.leftOutOfNodeModules.length).toBeGreaterThan(0);
    expect(findReachableLeftOuts(assembled.dir, assembled.files, assembled.leftOutOfNodeModules)).toEqual([]);
  });

  it('is read the same way by Core Tools and by azd', () => {
    expect(assembled.readingsDisagree).toEqual([]);
  });

  it('runs from the package alone: the entry, every app module, every package the app names, Application Insights', () => {
    const check = verifyPackage(assembled.dir, compiledTools);

    expect(check.entry).toBe('dist/src/index.js');
    expect(check.packages).toEqual(
      expect.arrayContaining(['@azure/functions', '@azure/service-bus', 'applicationinsights']),
    );
    expect(check.applicationInsights).toBe('started');
  }, 180_000);
});
