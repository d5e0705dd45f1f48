import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { managedIdentityProductionSettings } from '../../src/config';
import { startAzurite } from '../azurite/startAzurite';
import { startServiceBusEmulator } from '../servicebus-emulator';
import type { AssembledPackage } from './assemblePackage';
import { bundleDir, readWhenFirstUsed } from './bundleApp';
import type { ScenarioReport } from './verifyPackage';
import { verifyPackage } from './verifyPackage';

/** The app settings production has (infra/app/api.bicep), as the app states them; nothing connects at start-up. */
export const productionSettings: Record<string, string> = {
  ...(managedIdentityProductionSettings({
    serviceBusNamespace: 'sb-package-check.servicebus.windows.net',
    storageAccountName: 'stpackagecheck',
    identityClientId: '00000000-0000-0000-0000-000000000001',
  }) as Record<string, string>),
  Jobs__LogLevel: 'silent',
};

/** Telemetry on, sent where nothing listens: the check is that the SDK starts from the package, not that it sends. */
export const unreachableTelemetry =
  'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/';

export interface PackageCheck {
  readonly entry: string;
  readonly loadMs: number;
  readonly registrations: number;
  readonly loadedAtStartUp: readonly string[];
  /** One line on the jobs run through the package. */
  readonly jobs: string;
  readonly reports: readonly ScenarioReport[];
}

/**
 * The checks a package passes before it ships: the bundle leaves nothing to `require` that the package lacks and
 * holds nothing from a dev dependency; with production's settings it registers the app's functions and reads only
 * the app's bundle at start-up; a job runs through it in embedded mode (HTTP functions, in-memory queue, dashboard,
 * Application Insights started from its own file once idle), through the Service Bus trigger (the bundled
 * emulator, a host-shaped `processJob` invocation) and on the table and blob stores (Azurite, the storage SDKs read
 * from their own file). Each scenario in a fresh Node process. Throws on the first failure.
 */
export async function checkPackage(
  assembled: AssembledPackage,
  root = join(__dirname, '..', '..', '..'),
): Promise<PackageCheck> {
  const { bundle, dir } = assembled;
  if (bundle.unbundled.length > 0) {
    const examples = bundle.unbundled.slice(0, 10).map(({ path, importer }) => `  ${path} <- ${importer}`);
    throw new Error(`The bundle still requires modules the package does not hold:\n${examples.join('\n')}`);
  }
  const fromDevDependencies = devDependencyFiles(root, Object.values(bundle.inputs).flat());
  if (fromDevDependencies.length > 0) {
    throw new Error(`The bundle holds dev dependencies: ${fromDevDependencies.slice(0, 5).join(', ')}`);
  }

  const production = await verifyPackage(dir, 'production', productionSettings);
  if (production.loadError)
    throw new Error(`The app does not start with production's settings: ${production.loadError}`);
  if (production.registrations.length === 0)
    throw new Error('The app registered no function from the package.');
  const lazyAtStartUp = production.loadedAtStartUp.filter((path) =>
    readWhenFirstUsed.some((file) => path === `${bundleDir}/${file}`),
  );
  if (lazyAtStartUp.length > 0)
    throw new Error(
      `The app reads at start-up what it should read when first used: ${lazyAtStartUp.join(', ')}`,
    );
  const embedded = await verifyPackage(dir, 'embedded', {
    Jobs__UseServiceBus: 'false',
    Jobs__EnableDiagnostics: 'true',
    Jobs__LogLevel: 'info',
    APPLICATIONINSIGHTS_CONNECTION_STRING: unreachableTelemetry,
  });
  const emulator = await startServiceBusEmulator({ queues: { 'package-check': {} } });
  let serviceBus: ScenarioReport;
  try {
    serviceBus = await verifyPackage(dir, 'serviceBus', {
      ServiceBusConnection: emulator.connectionString,
      Jobs__ServiceBus__QueueName: 'package-check',
      Jobs__Store: 'memory',
      Jobs__EnableDiagnostics: 'true',
      Jobs__LogLevel: 'silent',
    });
  } finally {
    await emulator.close();
  }
  const azurite = await startAzurite();
  let storage: ScenarioReport;
  try {
    storage = await verifyPackage(dir, 'storage', {
      Jobs__UseServiceBus: 'false',
      Jobs__Store: 'table',
      JobsStorage: azurite.connectionString,
      Jobs__LogLevel: 'silent',
    });
  } finally {
    await azurite.close();
  }
  return {
    entry: production.entry,
    loadMs: production.loadMs,
    registrations: production.registrations.length,
    loadedAtStartUp: production.loadedAtStartUp,
    jobs:
      `a job ${embedded.job?.status} in embedded mode (dashboard ${embedded.answers?.['GET dashboard']}, ` +
      `Application Insights ${embedded.applicationInsights?.started ? 'started' : 'not started'} from ` +
      `${embedded.applicationInsights?.file}), a job ${serviceBus.job?.status} through the Service Bus trigger, ` +
      `a job ${storage.job?.status} on the table and blob stores (Azurite)`,
    reports: [production, embedded, serviceBus, storage],
  };
}

/** The bundle's input files that come from a package the lock file marks as a dev dependency. */
export function devDependencyFiles(root: string, inputs: readonly string[]): string[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const devPackages = Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && entry.dev)
    .map(([path]) => `${path}/`);
  return inputs.filter((input) => devPackages.some((prefix) => input.startsWith(prefix)));
}
