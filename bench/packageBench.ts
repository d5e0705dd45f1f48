import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { settingNames } from '../src/config';
import { assemblePackage } from '../tools/package/assemblePackage';
import { startAzurite } from '../tools/azurite/startAzurite';
import { productionSettings } from '../tools/package/checkPackage';
import { filesBelow } from '../tools/package/filesBelow';
import { zipFiles } from '../tools/package/zipFiles';
import { median } from './median';

// `npm run bench:package`: the deployment package's start-up figures (issue 25, item 4), for the package this
// project builds and, with `--compare <dir>`, another unpacked package (an older build, say) measured alternately in
// the same runs.

const usage =
  'Usage: npm run bench:package [-- --package <dir>] [--compare <dir>] [--runs <n>]\n' +
  '  --package <dir>  measure this unpacked package instead of building one now\n' +
  '  --compare <dir>  also measure this unpacked package, alternating with the first\n' +
  '  --runs <n>       fresh processes per figure (default 11); medians are printed';

const root = resolve(__dirname, '..', '..');
const embeddedSettings = {
  Jobs__UseServiceBus: 'false',
  Jobs__EnableDiagnostics: 'true',
  Jobs__LogLevel: 'info',
};

interface Sample {
  /** `require` of package.json "main", timed inside the process. */
  importMs: number;
  /** Process spawned → first submitJob answered (embedded mode), timed outside it. */
  firstRequestMs: number;
  /** The same on the table store (Azurite): the first request that loads the storage SDKs. */
  firstStoredRequestMs: number;
}

function childEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...settings };
  for (const name of settingNames) if (!(name in settings)) delete env[name];
  delete env.NODE_OPTIONS;
  return env;
}

/** Runs packageStart.js once; resolves with its JSON line and the time from spawn to that line. */
function start(mode: string, dir: string, settings: Record<string, string>) {
  return new Promise<{ result: { ms?: number }; elapsedMs: number }>((resolvePromise, reject) => {
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, [join(__dirname, 'packageStart.js'), mode, dir], {
      cwd: dir,
      env: childEnv(settings),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let answered: { result: { ms?: number }; elapsedMs: number } | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const last = stdout.trimEnd().split('\n').pop() ?? '';
      if (!answered && (last.startsWith('{"answered"') || last.startsWith('{"ms"'))) {
        answered = { result: JSON.parse(last) as { ms?: number }, elapsedMs: performance.now() - spawnedAt };
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // Settled when the process has exited, so that the next one does not share the CPU with it.
    child.on('close', (code) => {
      if (code === 0 && answered) resolvePromise(answered);
      else reject(new Error(`packageStart ${mode} ${dir} exited with ${code}:\n${stderr}`));
    });
  });
}

async function sample(dir: string, storedSettings: Record<string, string>): Promise<Sample> {
  const imported = await start('import', dir, productionSettings);
  const first = await start('first-request', dir, embeddedSettings);
  const stored = await start('first-request', dir, storedSettings);
  return {
    importMs: imported.result.ms!,
    firstRequestMs: first.elapsedMs,
    firstStoredRequestMs: stored.elapsedMs,
  };
}

function zipFigures(dir: string) {
  const scratch = mkdtempSync(join(tmpdir(), 'sdap-jobs-bench-zip-'));
  try {
    return zipFiles(join(scratch, 'package.zip'), dir, filesBelow(dir, '').sort());
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      package: { type: 'string' },
      compare: { type: 'string' },
      runs: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const runs = Number(values.runs ?? 11);
  let scratch: string | undefined;
  let built = values.package ? resolve(values.package) : undefined;
  if (!built) {
    scratch = mkdtempSync(join(tmpdir(), 'sdap-jobs-bench-package-'));
    built = (await assemblePackage(root, join(scratch, 'package'))).dir;
  }
  const packages = [
    { label: values.package ? built : 'this build', dir: built },
    ...(values.compare ? [{ label: resolve(values.compare), dir: resolve(values.compare) }] : []),
  ];
  for (const { dir } of packages) {
    if (!existsSync(join(dir, 'package.json'))) throw new Error(`${dir} holds no package.json.`);
  }
  // In this process, shared by every package measured: its table exists after the warm-up.
  const azurite = await startAzurite();
  try {
    const storedSettings = {
      ...embeddedSettings,
      Jobs__Store: 'table',
      JobsStorage: azurite.connectionString,
    };
    const samples = packages.map(() => [] as Sample[]);
    const platform: number[] = [];
    // Warm-up: the file system cache, as a second start has it, and the jobs table created.
    await start('import', built, productionSettings);
    await start('first-request', built, storedSettings);
    for (let run = 0; run < runs; run += 1) {
      platform.push((await start('platform', root, {})).result.ms!);
      for (const [index, { dir }] of packages.entries())
        samples[index]!.push(await sample(dir, storedSettings));
    }
    const platformMs = median(platform);
    console.log(`Deployment package start-up, fresh process each, alternating, median of ${runs}:`);
    console.log(
      `  platform packages (@azure/functions + @azure/service-bus + @azure/functions-extensions-servicebus, ` +
        `from node_modules): ${platformMs.toFixed(0)} ms`,
    );
    for (const [index, { label, dir }] of packages.entries()) {
      const zip = zipFigures(dir);
      const importMs = median(samples[index]!.map((s) => s.importMs));
      const firstMs = median(samples[index]!.map((s) => s.firstRequestMs));
      const storedMs = median(samples[index]!.map((s) => s.firstStoredRequestMs));
      console.log(`  ${label}:`);
      console.log(
        `    zip                ${zip.entries.toLocaleString('en-US')} files, ${(zip.bytes / 1e6).toFixed(1)} MB`,
      );
      console.log(
        `    import "main"      ${importMs.toFixed(0)} ms  (ratio to the platform packages ${(importMs / platformMs).toFixed(2)}; target ≤ 1.0)`,
      );
      console.log(
        `    cold first request ${firstMs.toFixed(0)} ms  (spawn → first POST /api/jobs answered, embedded)`,
      );
      console.log(
        `                       ${storedMs.toFixed(0)} ms  (the same on the table store, Azurite in this process)`,
      );
    }
  } finally {
    await azurite.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
