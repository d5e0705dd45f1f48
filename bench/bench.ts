import { measureEmbeddedThroughput } from './embeddedThroughput';
import type { FirstRequestSample } from './firstRequestLatency';
import { measureFirstRequest } from './firstRequestLatency';
import { measureImportTimes } from './importTime';
import { measureServiceBusThroughput } from './serviceBusThroughput';
import { measureStorageOperations } from './storageOperations';
import { median } from './median';

// `npm run bench`: the figures issue #2 asks for, printed side by side from one run.
async function main(): Promise<void> {
  const jobs = Number(process.env.BENCH_JOBS ?? 50_000);
  await measureEmbeddedThroughput(5_000, 16); // warm-up: JIT, allocator
  console.log(`Embedded path, no-op handler, ${jobs} jobs (submit → in-memory queue → dispatcher → store):`);
  for (const concurrency of [1, 16]) {
    const rate = await measureEmbeddedThroughput(jobs, concurrency);
    console.log(
      `  concurrency ${String(concurrency).padStart(2)}: ${Math.round(rate).toLocaleString('en-US')} jobs/s`,
    );
  }

  const serviceBusJobs = Number(process.env.BENCH_SERVICEBUS_JOBS ?? 10_000);
  const rounds = Number(process.env.BENCH_SERVICEBUS_ROUNDS ?? 7);
  const serviceBus = await measureServiceBusThroughput(serviceBusJobs, rounds);
  console.log(
    `Service Bus path, bundled emulator in its own process, ${serviceBusJobs} messages × ${rounds} alternating rounds after a warm-up:`,
  );
  const lanes = [
    ['raw @azure/service-bus send → receive → complete', serviceBus.raw],
    ['trigger runner → no-op function (host stand-in)', serviceBus.runner],
    ['app: submit batch → trigger runner → processJob', serviceBus.app],
    ['the app, its store keeping no records', serviceBus.appKeepingNoRecords],
  ] as const;
  for (const [label, figures] of lanes) {
    const rates = figures.map((lane) => lane.perSecond);
    const cpu = median(figures.map((lane) => lane.cpuMicrosPerMessage));
    console.log(
      `  ${label.padEnd(50)} msg/s ${rates.map(rounded).join(', ')}  median ${rounded(median(rates))}; ` +
        `client CPU ${cpu.toFixed(0)} µs/msg`,
    );
  }
  for (const [label, figures] of [
    ['trigger runner / raw', serviceBus.runner],
    ['app / raw (target ≥ 0.85)', serviceBus.app],
    ['app keeping no records / raw', serviceBus.appKeepingNoRecords],
  ] as const) {
    const ratios = figures.map((lane, round) => lane.perSecond / (serviceBus.raw[round]?.perSecond ?? NaN));
    console.log(
      `  ${label} per round: ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')}  median ${median(ratios).toFixed(2)}`,
    );
  }

  const storageJobs = 200;
  const storage = await measureStorageOperations(storageJobs);
  console.log(
    `Table Storage requests per successful job (submit → Completed, ${storageJobs} jobs with idempotency keys):`,
  );
  console.log(`  total: ${storage.perJob.toFixed(2)} per job`);
  for (const [operation, perJob] of Object.entries(storage.breakdown)) {
    console.log(`    ${operation.padEnd(24)} ${perJob.toFixed(2)}`);
  }

  const runs = Number(process.env.BENCH_IMPORT_RUNS ?? 7);
  const times = measureImportTimes(runs);
  console.log(`Start-up: import time, fresh process each, median of ${runs}:`);
  console.log(
    `  platform packages (@azure/functions + @azure/service-bus + @azure/functions-extensions-servicebus): ${times.platformPackagesMs.toFixed(0)} ms`,
  );
  console.log(
    `  dist/src/index.js, Service Bus + table store: ${times.entryServiceBusMs.toFixed(0)} ms  (ratio ${(times.entryServiceBusMs / times.platformPackagesMs).toFixed(2)})`,
  );
  console.log(
    `  dist/src/index.js, embedded mode:     ${times.entryEmbeddedMs.toFixed(0)} ms  (ratio ${(times.entryEmbeddedMs / times.platformPackagesMs).toFixed(2)})`,
  );
  console.log(
    `  dist/src/index.js, embedded mode, Application Insights on: ${times.entryTelemetryMs.toFixed(0)} ms  (ratio ${(times.entryTelemetryMs / times.platformPackagesMs).toFixed(2)})`,
  );
  console.log(
    `  applicationinsights alone (what loading it eagerly would add): ${times.applicationInsightsMs.toFixed(0)} ms`,
  );

  const coldRuns = Number(process.env.BENCH_COLD_RUNS ?? 11);
  const cold = { off: [] as FirstRequestSample[], on: [] as FirstRequestSample[] };
  for (let run = 0; run < coldRuns; run += 1) {
    cold.off.push(await measureFirstRequest(false));
    cold.on.push(await measureFirstRequest(true));
  }
  const coldMedian = (samples: FirstRequestSample[], field: keyof FirstRequestSample) =>
    median(samples.map((sample) => sample[field]));
  console.log(
    `Cold process, first POST /api/jobs (embedded), telemetry off vs on, interleaved, median of ${coldRuns}:`,
  );
  for (const field of ['coldStartMs', 'firstRequestMs'] as const) {
    const off = coldMedian(cold.off, field);
    const on = coldMedian(cold.on, field);
    const label = field === 'coldStartMs' ? 'spawn → first response' : 'first request alone   ';
    console.log(
      `  ${label}: off ${off.toFixed(1)} ms, on ${on.toFixed(1)} ms  (ratio ${(on / off).toFixed(2)}; target ≤ 1.2)`,
    );
  }
}

function rounded(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
