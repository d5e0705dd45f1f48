import { loadConfig } from '../src/config';
import { createJobsRuntime } from '../src/runtime';
import { completionCounter } from './completionCounter';

/**
 * Jobs per second through the embedded path: submission (validation, record, enqueue) → in-memory queue →
 * dispatcher → handler → settlement → record, with a handler that does nothing (`diagnostics.simulate` with an
 * empty payload).
 */
export async function measureEmbeddedThroughput(jobs: number, concurrency: number): Promise<number> {
  const completions = completionCounter();
  const runtime = createJobsRuntime(
    loadConfig({
      Jobs__UseServiceBus: 'false',
      Jobs__EnableDiagnostics: 'true',
      Jobs__MaxConcurrency: String(concurrency),
      // Every record kept, so the run can check each job completed.
      Jobs__Retention__MaxFinishedInMemory: String(jobs),
    }),
    { logger: completions.logger },
  );
  runtime.start();

  const batch = Array.from({ length: 100 }, () => ({ jobType: 'diagnostics.simulate', payload: {} }));
  const started = process.hrtime.bigint();
  const submitted: string[] = [];
  for (let sent = 0; sent < jobs; sent += batch.length) {
    const results = await runtime.submission.submitBatch(batch);
    submitted.push(...results.map((result) => result.record.jobId));
  }
  await completions.whenCompleted(submitted.length);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const records = await Promise.all(submitted.map((jobId) => runtime.store.get(jobId)));
  if (new Set(submitted).size !== jobs || records.some((stored) => stored?.record.status !== 'Completed')) {
    throw new Error('benchmark jobs were not all distinct and completed');
  }
  await runtime.stop();
  return submitted.length / seconds;
}
