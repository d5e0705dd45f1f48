import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { unreachableTelemetryConnectionString } from './firstRequestLatency';
import { median } from './median';

const emulatorConnection =
  'Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;';

/** Milliseconds to `require` the given modules in a fresh Node process, timed inside it. */
function importMs(modules: readonly string[], env: Record<string, string>): number {
  const script = `const t = performance.now(); for (const m of ${JSON.stringify(modules)}) require(m); process.stdout.write(String(performance.now() - t));`;
  const output = execFileSync(process.execPath, ['-e', script], {
    cwd: resolve(__dirname, '..', '..'),
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return Number(output);
}

export interface ImportTimes {
  platformPackagesMs: number;
  entryServiceBusMs: number;
  entryEmbeddedMs: number;
  entryTelemetryMs: number;
  applicationInsightsMs: number;
}

/**
 * Start-up cost: the compiled Functions entry point against the platform packages it cannot avoid, each in a fresh
 * process, interleaved so machine noise hits both alike; medians of `runs`.
 */
export function measureImportTimes(runs: number): ImportTimes {
  const entry = resolve(__dirname, '..', 'src', 'index.js');
  const platform = ['@azure/functions', '@azure/service-bus', '@azure/functions-extensions-servicebus'];
  const serviceBusEnv = {
    Jobs__UseServiceBus: 'true',
    ServiceBusConnection: emulatorConnection,
    Jobs__LogLevel: 'silent',
    // Production shape: Service Bus and the table store (nothing connects at import).
    JobsStorage: 'UseDevelopmentStorage=true',
  };
  const embeddedEnv = { Jobs__UseServiceBus: 'false', Jobs__LogLevel: 'silent' };
  const telemetryEnv = {
    ...embeddedEnv,
    APPLICATIONINSIGHTS_CONNECTION_STRING: unreachableTelemetryConnectionString,
  };
  const samples = {
    platform: [] as number[],
    serviceBus: [] as number[],
    embedded: [] as number[],
    telemetry: [] as number[],
    applicationInsights: [] as number[],
  };
  for (let run = 0; run < runs; run += 1) {
    samples.platform.push(importMs(platform, {}));
    samples.serviceBus.push(importMs([entry], serviceBusEnv));
    samples.embedded.push(importMs([entry], embeddedEnv));
    samples.telemetry.push(importMs([entry], telemetryEnv));
    samples.applicationInsights.push(importMs(['applicationinsights'], {}));
  }
  return {
    platformPackagesMs: median(samples.platform),
    entryServiceBusMs: median(samples.serviceBus),
    entryEmbeddedMs: median(samples.embedded),
    entryTelemetryMs: median(samples.telemetry),
    applicationInsightsMs: median(samples.applicationInsights),
  };
}
