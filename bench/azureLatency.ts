import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { DelayProxy } from './delayProxy';
import { median } from './median';
import { appPath, rawLoop, startEmulatorProcess } from './serviceBusThroughput';

// `npm run bench:latency`: jobs per second per instance at round trips typical of one Azure region, the app beside
// the raw SDK loop, for several `maxConcurrentCalls`. Service Bus and Table Storage each sit behind a proxy that adds
// a fixed round trip; the emulator and Azurite run in processes of their own, as remote services would.
const serviceBusRoundTripMs = Number(process.env.BENCH_SERVICEBUS_RTT_MS ?? 3);
const storageRoundTripMs = Number(process.env.BENCH_STORAGE_RTT_MS ?? 7);
const concurrencies = (process.env.BENCH_CONCURRENCY ?? '16,64,128').split(',').map(Number);
const messages = Number(process.env.BENCH_LATENCY_JOBS ?? 3_000);
const rounds = Number(process.env.BENCH_LATENCY_ROUNDS ?? 3);

async function main(): Promise<void> {
  const emulator = await startEmulatorProcess();
  const azurite = await startAzuriteProcess();
  const serviceBusProxy = await DelayProxy.start(
    portOf(emulator.connectionString, /sb:\/\/[^:]+:(\d+)/),
    serviceBusRoundTripMs,
  );
  const tableProxy = await DelayProxy.start(
    portOf(azurite.connectionString, /TableEndpoint=http:\/\/[^:]+:(\d+)/),
    storageRoundTripMs,
  );
  const serviceBus = emulator.connectionString.replace(/(sb:\/\/[^:]+:)\d+/, `$1${serviceBusProxy.port}`);
  const storage = azurite.connectionString.replace(
    /(TableEndpoint=http:\/\/[^:]+:)\d+/,
    `$1${tableProxy.port}`,
  );
  const hostJsonDir = mkdtempSync(join(tmpdir(), 'sdap-jobs-bench-'));
  console.log(
    `Jobs per second per instance with an added round trip of ${serviceBusRoundTripMs} ms to Service Bus and ` +
      `${storageRoundTripMs} ms to Table Storage; ${messages} jobs a lane, median of ${rounds} alternating rounds:`,
  );
  try {
    for (const concurrency of concurrencies) {
      const hostJsonPath = withConcurrency(hostJsonDir, concurrency);
      const env = {
        Jobs__Store: 'table',
        JobsStorage: storage,
        Jobs__Storage__JobsTable: `Bench${concurrency}`,
      };
      const lanes = {
        raw: () => rawLoop(serviceBus, messages, concurrency),
        app: () => appPath(serviceBus, messages, { env, hostJsonPath }),
      };
      const rates: Record<keyof typeof lanes, number[]> = { raw: [], app: [] };
      await lanes.app(); // warm-up: creates the table, JIT
      for (let round = 0; round < rounds; round += 1) {
        for (const [name, lane] of Object.entries(lanes)) {
          rates[name as keyof typeof lanes].push((await lane()).perSecond);
        }
      }
      const raw = median(rates.raw);
      const app = median(rates.app);
      console.log(
        `  maxConcurrentCalls ${String(concurrency).padStart(3)}: raw SDK loop ${rounded(raw)} msg/s, ` +
          `app (submit → trigger → claim → run → record) ${rounded(app)} jobs/s, app/raw ${(app / raw).toFixed(2)}`,
      );
    }
  } finally {
    rmSync(hostJsonDir, { recursive: true, force: true });
    await serviceBusProxy.close();
    await tableProxy.close();
    emulator.stop();
    azurite.stop();
  }
}

/** The project's host.json with another `maxConcurrentCalls`: the local host's trigger reads it as the host would. */
function withConcurrency(dir: string, maxConcurrentCalls: number): string {
  const hostJson = JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'host.json'), 'utf8')) as {
    extensions: { serviceBus: Record<string, unknown> };
  };
  hostJson.extensions.serviceBus.maxConcurrentCalls = maxConcurrentCalls;
  const path = join(dir, `host-${maxConcurrentCalls}.json`);
  writeFileSync(path, JSON.stringify(hostJson));
  return path;
}

async function startAzuriteProcess(): Promise<{ connectionString: string; stop: () => void }> {
  const azuriteModule = resolve(__dirname, '..', 'tools', 'azurite', 'startAzurite');
  const script = `require(${JSON.stringify(azuriteModule)}).startAzurite().then((a) => console.log(a.connectionString));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const firstLine = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
  if (firstLine.done) throw new Error('the Azurite process exited before it was ready');
  return { connectionString: String(firstLine.value), stop: () => child.kill() };
}

function portOf(connectionString: string, pattern: RegExp): number {
  const port = pattern.exec(connectionString)?.[1];
  if (!port) throw new Error(`No port in ${connectionString}`);
  return Number(port);
}

function rounded(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
