import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DelayProxy } from './delayProxy';
import { delayedJobStore } from './delayedJobStore';
import { median } from './median';
import { appPath, rawLoop, startEmulatorProcess } from './serviceBusThroughput';

// `npm run bench:latency`: jobs per second per instance at round trips typical of one Azure region, the app beside
// the raw SDK loop, for several `maxConcurrentCalls`. Service Bus sits behind a proxy that adds a fixed round trip
// (the emulator in a process of its own, as a broker is); Table Storage is the in-memory store waiting the Table
// adapter's round trips per call (`delayedJobStore`: Azurite on these two cores would measure Azurite's CPU). A third
// lane runs the app with the store answering at once: the gap between it and the app lane is what the job's own Table
// round trips cost (the claim before the handler, the result before the settle), the floor the guarantees set.
const serviceBusRoundTripMs = Number(process.env.BENCH_SERVICEBUS_RTT_MS ?? 3);
const storageRoundTripMs = Number(process.env.BENCH_STORAGE_RTT_MS ?? 7);
const concurrencies = (process.env.BENCH_CONCURRENCY ?? '16,64,128').split(',').map(Number);
const messages = Number(process.env.BENCH_LATENCY_JOBS ?? 3_000);
const rounds = Number(process.env.BENCH_LATENCY_ROUNDS ?? 3);
// An I/O-bound handler: each run waits this long (diagnostics.simulate's durationMs), as one calling a service does.
const handlerMs = Number(process.env.BENCH_HANDLER_MS ?? 0);
// Clients submitting at once, in every lane: one producer waits out each batch's round trips (the app's three Table
// requests and its send) before the next, and at 128 calls it, not the dispatcher, sets the pace.
const producers = Number(process.env.BENCH_PRODUCERS ?? 1);

async function main(): Promise<void> {
  const emulator = await startEmulatorProcess();
  const emulatorPort = Number(/sb:\/\/[^:]+:(\d+)/.exec(emulator.connectionString)?.[1]);
  const serviceBusProxy = await DelayProxy.start(emulatorPort, serviceBusRoundTripMs);
  const serviceBus = emulator.connectionString.replace(/(sb:\/\/[^:]+:)\d+/, `$1${serviceBusProxy.port}`);
  const hostJsonDir = mkdtempSync(join(tmpdir(), 'sdap-jobs-bench-'));
  console.log(
    `Jobs per second per instance with an added round trip of ${serviceBusRoundTripMs} ms to Service Bus and ` +
      `${storageRoundTripMs} ms to Table Storage, handlers that wait ${handlerMs} ms; ${messages} jobs a lane ` +
      `in batches of 100 from ${producers} producer(s), median of ${rounds} alternating rounds:`,
  );
  try {
    for (const concurrency of concurrencies) {
      const hostJsonPath = withConcurrency(hostJsonDir, concurrency);
      const lanes = {
        raw: () => rawLoop(serviceBus, messages, concurrency, producers),
        app: () =>
          appPath(serviceBus, messages, {
            store: delayedJobStore(storageRoundTripMs),
            hostJsonPath,
            handlerMs,
            producers,
          }),
        appStoreAtOnce: () => appPath(serviceBus, messages, { hostJsonPath, handlerMs, producers }),
      };
      const rates: Record<keyof typeof lanes, number[]> = { raw: [], app: [], appStoreAtOnce: [] };
      await lanes.app(); // warm-up: JIT, connections
      for (let round = 0; round < rounds; round += 1) {
        for (const [name, lane] of Object.entries(lanes)) {
          rates[name as keyof typeof lanes].push((await lane()).perSecond);
        }
      }
      const raw = median(rates.raw);
      const app = median(rates.app);
      const appStoreAtOnce = median(rates.appStoreAtOnce);
      console.log(
        `  maxConcurrentCalls ${String(concurrency).padStart(3)}: raw SDK loop ${rounded(raw)} msg/s, ` +
          `app (submit → trigger → claim → run → record) ${rounded(app)} jobs/s, app/raw ${(app / raw).toFixed(2)}; ` +
          `the app with its store answering at once ${rounded(appStoreAtOnce)} jobs/s, ` +
          `app/raw ${(appStoreAtOnce / raw).toFixed(2)}`,
      );
    }
  } finally {
    rmSync(hostJsonDir, { recursive: true, force: true });
    await serviceBusProxy.close();
    emulator.stop();
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
