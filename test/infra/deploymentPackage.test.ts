import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { AssembledPackage } from '../../tools/package/assemblePackage';
import { assemblePackage } from '../../tools/package/assemblePackage';
import {
  devDependencyFiles,
  productionSettings,
  unreachableTelemetry,
} from '../../tools/package/checkPackage';
import { verifyPackage } from '../../tools/package/verifyPackage';
import { startServiceBusEmulator } from '../../tools/servicebus-emulator';
import { startAzurite } from '../../tools/azurite/startAzurite';
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
        'dist/bundle/storage.js',
        'dist/bundle/identity.js',
        'dist/bundle/grpc.js',
        'dist/bundle/zodLocales.js',
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

  it("keeps the storage SDKs, the identity SDK, gRPC and zod's locales out of app.js, each in a file of its own, and the app in app.js only", () => {
    const inputs = assembled.bundle.inputs;
    const packagesIn = (file: string) =>
      new Set(inputs[file]!.map((path) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1]));

    expect([...packagesIn('dist/bundle/storage.js')]).toEqual(
      expect.arrayContaining(['@azure/data-tables', '@azure/storage-blob']),
    );
    expect([...packagesIn('dist/bundle/identity.js')]).toEqual(
      expect.arrayContaining(['@azure/identity', '@azure/msal-node']),
    );
    expect([...packagesIn('dist/bundle/grpc.js')]).toEqual(
      expect.arrayContaining(['@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs']),
    );
    expect(inputs['dist/bundle/zodLocales.js']).toEqual(
      expect.arrayContaining(['node_modules/zod/v4/locales/index.cjs', 'node_modules/zod/v4/locales/fr.cjs']),
    );
    // zod's own messages: English, required directly.
    expect(inputs['dist/bundle/app.js']!.filter((path) => path.includes('/zod/v4/locales/'))).toEqual([
      'node_modules/zod/v4/locales/en.cjs',
    ]);
    const inApp = packagesIn('dist/bundle/app.js');
    for (const name of [
      '@azure/data-tables',
      '@azure/storage-blob',
      '@azure/identity',
      '@azure/msal-node',
      '@grpc/grpc-js',
    ])
      expect([name, inApp.has(name)]).toEqual([name, false]);
    const appModulesElsewhere = Object.entries(inputs)
      .filter(([file]) => file !== 'dist/bundle/app.js')
      .flatMap(([, paths]) => paths.filter((path) => path.startsWith('dist/src/')));
    // applicationInsights.js holds the one module that loads the SDK, which app.js leaves to it.
    expect(appModulesElsewhere).toEqual(['dist/src/telemetry/applicationInsightsSdk.js']);
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

  it('runs a job on the table store and the document store, loading the storage SDKs from their own file only then', async () => {
    const azurite = await startAzurite();
    try {
      const report = await verifyPackage(
        assembled.dir,
        'storage',
        {
          Jobs__UseServiceBus: 'false',
          Jobs__Store: 'table',
          JobsStorage: azurite.connectionString,
          Jobs__LogLevel: 'silent',
        },
        compiledTools,
      );

      expect(report.loadedAtStartUp).toEqual(['dist/bundle/app.js', 'dist/bundle/index.js']);
      expect(report.job).toMatchObject({ status: 'Completed', attempt: 1 });
      expect(report.loadedAtEnd).toEqual([
        'dist/bundle/app.js',
        'dist/bundle/index.js',
        'dist/bundle/storage.js',
      ]);
    } finally {
      await azurite.close();
    }
  }, 90_000);

  it('asks the managed identity for a storage token at the first store call, with the identity SDK from its own file', async () => {
    // The App Service identity endpoint, as Flex Consumption gives a function app: a token for any request.
    const tokenRequests: { url: string; header: string | undefined }[] = [];
    const identityEndpoint = createServer((request, response) => {
      tokenRequests.push({ url: request.url!, header: request.headers['x-identity-header'] as string });
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          access_token: 'package-check-token',
          expires_on: String(Math.floor(Date.now() / 1000) + 3600),
          resource: 'https://storage.azure.com',
          token_type: 'Bearer',
        }),
      );
    });
    await new Promise<void>((resolve) => identityEndpoint.listen(0, '127.0.0.1', resolve));
    const { port } = identityEndpoint.address() as AddressInfo;
    try {
      const report = await verifyPackage(
        assembled.dir,
        'identity',
        {
          ...productionSettings,
          IDENTITY_ENDPOINT: `http://127.0.0.1:${port}/msi/token`,
          IDENTITY_HEADER: 'package-check-header',
          // Nothing listens there: the call fails once the token is in hand.
          JobsStorage__tableServiceUri: 'https://127.0.0.1:9/',
          JobsStorage__blobServiceUri: 'https://127.0.0.1:9/',
        },
        compiledTools,
      );

      expect(report.loadedAtStartUp).toEqual(['dist/bundle/app.js', 'dist/bundle/index.js']);
      expect(tokenRequests.length).toBeGreaterThan(0);
      const asked = new URL(tokenRequests[0]!.url, 'http://identity');
      expect([asked.searchParams.get('resource'), asked.searchParams.get('client_id')]).toEqual([
        'https://storage.azure.com',
        productionSettings.JobsStorage__clientId,
      ]);
      expect(tokenRequests[0]!.header).toBe('package-check-header');
      expect(report.answers).toEqual({ 'GET jobs/{jobId}': 503 });
      expect(report.loadedAtEnd).toEqual([
        'dist/bundle/app.js',
        'dist/bundle/identity.js',
        'dist/bundle/index.js',
        'dist/bundle/storage.js',
      ]);
    } finally {
      identityEndpoint.close();
    }
  }, 90_000);

  it("settles through the gRPC client the Service Bus extension builds, from the bundle's gRPC file and its proto", async () => {
    // The host's side: the Settlement service, from the project's own copy of gRPC.
    const protoPath = join(assembled.dir, 'dist', 'bundle', 'proto', 'settlement.proto');
    const definition = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as unknown as Record<
      string,
      { service: grpc.ServiceDefinition }
    >;
    const completed: string[] = [];
    const server = new grpc.Server();
    server.addService(definition.Settlement!.service, {
      complete: (
        call: grpc.ServerUnaryCall<{ locktoken: string }, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        completed.push(call.request.locktoken);
        callback(null, {});
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    // The app's side, as the extension's createGrpcClient makes it (its options), from dist/bundle/grpc.js.
    const script = `
      const chunk = require('./dist/bundle/grpc.js');
      const module = (name) => chunk[Object.keys(chunk).find((key) => key.startsWith('node_modules/' + name + '/'))];
      const grpc = module('@grpc/grpc-js');
      const protoLoader = module('@grpc/proto-loader');
      const definition = protoLoader.loadSync(${JSON.stringify(protoPath)}, { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
      const Settlement = grpc.loadPackageDefinition(definition).Settlement;
      const client = new Settlement('127.0.0.1:${port}', grpc.credentials.createInsecure(), {});
      client.complete({ locktoken: 'package-check-lock' }, (error) => { console.log(error ? String(error) : 'completed'); client.close(); });
    `;
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
        cwd: assembled.dir,
        encoding: 'utf8',
      });

      expect(stdout.trim()).toBe('completed');
      expect(completed).toEqual(['package-check-lock']);
    } finally {
      server.forceShutdown();
    }
  }, 60_000);

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
