import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AssembledPackage } from '../../tools/package/assemblePackage';
import { assemblePackage } from '../../tools/package/assemblePackage';
import {
  devDependencyFiles,
  productionSettings,
  unreachableTelemetry,
} from '../../tools/package/checkPackage';
import { verifyPackage } from '../../tools/package/verifyPackage';
import { startServiceBusEmulator } from '../../tools/servicebus-emulator';
import { filesBelow } from './filesBelow';
import { productionFunctionTable } from './productionApp';

// The package `npm run package:size` measures and azure.yaml deploys, built for real: the project files .funcignore
// keeps, the app and its production dependencies bundled with esbuild, then loaded in fresh Node processes the way
// the Functions worker loads it (tools/package/workerStandIn.ts) and driven through the functions it registers.
const root = join(__dirname, '..', '..');
const compiledTools = join(root, 'dist', 'tools', 'package');
let scratch: string;
let assembled: AssembledPackage;

/** `npm run build` when dist/ is missing or older than a source: the bundle is made from dist/src. */
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

beforeAll(async () => {
  buildIfStale();
  scratch = mkdtempSync(join(tmpdir(), 'sdap-jobs-package-test-'));
  assembled = await assemblePackage(root, join(scratch, 'package'));
}, 300_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the deployment package', () => {
  it('holds package.json, host.json, the dashboard and the bundle, and nothing else: a few dozen files at most', () => {
    const others = assembled.files.filter(
      (path) => !/^(package\.json|host\.json|dashboard\/[^/]+|dist\/bundle\/.+)$/.test(path),
    );

    expect(others).toEqual([]);
    expect(assembled.files).toEqual(
      expect.arrayContaining([
        'package.json',
        'host.json',
        'dashboard/index.html',
        'dist/bundle/index.js',
        'dist/bundle/app.js',
        'dist/bundle/app.js.map',
        'dist/bundle/applicationInsights.js',
        'dist/bundle/proto/settlement.proto',
      ]),
    );
    expect(assembled.files.length).toBeLessThan(50);
  });

  it('points package.json "main" at the bundle and lists nothing to install or build on the platform', () => {
    const manifest = JSON.parse(readFileSync(join(assembled.dir, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;

    expect(manifest.main).toBe('dist/bundle/index.js');
    expect(manifest.type).toBeUndefined();
    expect(
      ['dependencies', 'devDependencies', 'overrides', 'scripts'].filter((field) => field in manifest),
    ).toEqual([]);
  });

  it('bundles every module the app loads, from production dependencies only', () => {
    const inputs = assembled.bundle.inputs;

    expect(assembled.bundle.unbundled).toEqual([]);
    expect(devDependencyFiles(root, Object.values(inputs).flat())).toEqual([]);
    expect(inputs['dist/bundle/app.js']).toEqual(
      expect.arrayContaining([
        'dist/src/index.js',
        'node_modules/@azure/functions/dist/azure-functions.js',
        'node_modules/@azure/functions-extensions-base/dist/azure-functions-extensions-base.js',
      ]),
    );
    expect(
      inputs['dist/bundle/app.js']!.some((path) => path.startsWith('node_modules/applicationinsights/')),
    ).toBe(false);
    expect(
      inputs['dist/bundle/applicationInsights.js']!.some((path) =>
        path.startsWith('node_modules/applicationinsights/'),
      ),
    ).toBe(true);
  });

  it('is read the same way by Core Tools and by azd', () => {
    expect(assembled.readingsDisagree).toEqual([]);
  });

  it('registers every function of the table from the bundle with production settings, reading only the app bundle', async () => {
    const table = productionFunctionTable();

    const report = await verifyPackage(assembled.dir, 'production', productionSettings, compiledTools);

    expect(report.loadError).toBeUndefined();
    expect(report.programmingModel).toMatch(/^@azure\/functions@4\./);
    expect(report.registrations.map(({ name }) => name)).toEqual(table.map(({ name }) => name));
    for (const definition of table) {
      const { trigger, options } = report.registrations.find(({ name }) => name === definition.name)!;
      if (definition.kind === 'http') {
        expect([trigger, options]).toMatchObject([
          'httpTrigger',
          { route: definition.route, authLevel: definition.authLevel, methods: definition.methods },
        ]);
      } else if (definition.kind === 'timer') {
        expect([trigger, options]).toMatchObject(['timerTrigger', { schedule: definition.schedule }]);
      } else {
        expect([trigger, options]).toMatchObject([
          'serviceBusTrigger',
          { queueName: definition.queueName, connection: definition.connection },
        ]);
      }
    }
    expect(report.loadedAtStartUp).toEqual(['dist/bundle/app.js', 'dist/bundle/index.js']);
  }, 60_000);

  it('runs a job through the bundle in embedded mode, serves the dashboard, and starts Application Insights from its own file once idle', async () => {
    const report = await verifyPackage(
      assembled.dir,
      'embedded',
      {
        Jobs__UseServiceBus: 'false',
        Jobs__EnableDiagnostics: 'true',
        Jobs__LogLevel: 'info',
        APPLICATIONINSIGHTS_CONNECTION_STRING: unreachableTelemetry,
      },
      compiledTools,
    );

    expect(report.loadedAtStartUp).not.toContain('dist/bundle/applicationInsights.js');
    expect(report.job).toMatchObject({ status: 'Completed', attempt: 1 });
    expect(report.answers).toEqual({
      'GET health': 200,
      'GET dashboard': 200,
      'GET dashboard/dashboard.js': 200,
    });
    expect(report.applicationInsights).toEqual({ started: true, file: 'dist/bundle/applicationInsights.js' });
  }, 90_000);

  it('runs a job through the Service Bus trigger as the host invokes processJob', async () => {
    const emulator = await startServiceBusEmulator({ queues: { 'package-test': {} } });
    try {
      const report = await verifyPackage(
        assembled.dir,
        'serviceBus',
        {
          ServiceBusConnection: emulator.connectionString,
          Jobs__ServiceBus__QueueName: 'package-test',
          Jobs__Store: 'memory',
          Jobs__EnableDiagnostics: 'true',
          Jobs__LogLevel: 'silent',
        },
        compiledTools,
      );

      expect(report.job).toMatchObject({ status: 'Completed', attempt: 1 });
    } finally {
      await emulator.close();
    }
  }, 90_000);

  it('holds the Service Bus extension version, so explicit settlement is refused naming it', async () => {
    const installed = (
      JSON.parse(
        readFileSync(
          join(root, 'node_modules', '@azure', 'functions-extensions-servicebus', 'package.json'),
          'utf8',
        ),
      ) as { version: string }
    ).version;

    const report = await verifyPackage(
      assembled.dir,
      'explicit',
      { ...productionSettings, Jobs__ServiceBus__Settlement: 'explicit' },
      compiledTools,
    );

    expect(report.loadError).toContain(`but ${installed} is installed`);
  }, 60_000);

  it('names the TypeScript source in a stack trace from the bundle, and keeps its lines short', () => {
    const entry = join(assembled.dir, 'dist', 'bundle', 'index.js');
    const script = `try { require(${JSON.stringify(entry)}); } catch (error) { console.log(error.stack); }`;

    const result = spawnSync(process.execPath, ['-e', script], {
      cwd: assembled.dir,
      env: { PATH: process.env.PATH, Jobs__UseServiceBus: 'true' },
      encoding: 'utf8',
    });

    expect(result.stdout).toMatch(/^ConfigurationError: Invalid app settings/);
    expect(result.stdout).toMatch(/\(.*src\/config\.ts:\d+:\d+\)/);
    const longest = Math.max(
      ...readFileSync(join(assembled.dir, 'dist', 'bundle', 'app.js'), 'utf8')
        .split('\n')
        .map((line) => line.length),
    );
    // esbuild breaks lines at 400 characters where it can (not inside a long string): no line is a whole module.
    expect(longest).toBeLessThan(10_000);
  });
});
