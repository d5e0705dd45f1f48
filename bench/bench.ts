import { measureEmbeddedThroughput } from './embeddedThroughput';
import { measureImportTimes } from './importTime';

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

  const runs = Number(process.env.BENCH_IMPORT_RUNS ?? 7);
  const times = measureImportTimes(runs);
  console.log(`Start-up: import time, fresh process each, median of ${runs}:`);
  console.log(
    `  platform packages (@azure/functions + @azure/service-bus + @azure/functions-extensions-servicebus): ${times.platformPackagesMs.toFixed(0)} ms`,
  );
  console.log(
    `  dist/src/index.js, Service Bus mode:  ${times.entryServiceBusMs.toFixed(0)} ms  (ratio ${(times.entryServiceBusMs / times.platformPackagesMs).toFixed(2)})`,
  );
  console.log(
    `  dist/src/index.js, embedded mode:     ${times.entryEmbeddedMs.toFixed(0)} ms  (ratio ${(times.entryEmbeddedMs / times.platformPackagesMs).toFixed(2)})`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
