import { loadConfig } from '../src/config';
import { silentLogger } from '../src/jobs/logger';
import { createJobsRuntime } from '../src/runtime';

/**
 * Jobs per second through the embedded path: submission (validation, record, enqueue) → in-memory queue →
 * dispatcher → handler → settlement → record, with a handler that does nothing (`diagnostics.simulate` with an
 * empty payload).
 */
export async function measureEmbeddedThroughput(jobs: number, concurrency: number): Promise<number> {
  const runtime = createJobsRuntime(
    loadConfig({
      Jobs__UseServiceBus: 'false',
      Jobs__EnableDiagnostics: 'true',
      Jobs__MaxConcurrency: String(concurrency),
    }),
    { logger: silentLogger },
  );
  const queue = runtime.embeddedQueue;
  if (!queue) throw new Error('expected the embedded queue');
  runtime.start();

  const batch = Array.from({ length: 100 }, () => ({ jobType: 'diagnostics.simulate', payload: {} }));
  const started = process.hrtime.bigint();
  const submitted: string[] = [];
  for (let sent = 0; sent < jobs; sent += batch.length) {
    const results = await runtime.submission.submitBatch(batch);
    submitted.push(...results.map((result) => result.record.jobId));
  }
  await new Promise<void>((resolve) => {
    const check = (): void => {
      const { active, locked, scheduled } = queue.messageCount();
      if (active + locked + scheduled === 0) resolve();
      else setImmediate(check);
    };
    check();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const last = await runtime.store.get(submitted[submitted.length - 1] ?? '');
  if (last?.status !== 'Completed') throw new Error(`benchmark job did not complete: ${last?.status}`);
  await runtime.stop();
  return submitted.length / seconds;
}
