import { TableClient } from '@azure/data-tables';
import { JobRetention } from '../../src/jobs/maintenance/jobRetention';
import type { JobRecord, JobStatus } from '../../src/jobs/model/jobRecord';
import type { JobStore } from '../../src/jobs/ports/jobStore';
import { silentLogger } from '../../src/jobs/support/logger';
import { InMemoryJobStore } from '../../src/store/inMemoryJobStore';
import { TableJobStore } from '../../src/store/tableJobStore';
import type { StartedAzurite } from '../../tools/azurite/startAzurite';
import { startAzurite } from '../../tools/azurite/startAzurite';
import { jobRecordAt } from '../support/jobFixtures';

let azurite: StartedAzurite;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(() => azurite?.close());

const now = new Date('2026-03-01T00:00:00Z');
const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();

/** A job last changed `days` ago in `status`. */
function jobAged(status: JobStatus, days: number): JobRecord {
  const at = daysAgo(days);
  return { ...jobRecordAt(at), status, updatedAt: at, completedAt: status === 'Running' ? null : at };
}

const adapters: Array<[string, () => JobStore]> = [
  ['in-memory', () => new InMemoryJobStore()],
  [
    'Table Storage (Azurite)',
    () =>
      new TableJobStore(
        TableClient.fromConnectionString(azurite.connectionString, `Retention${Date.now()}`, {
          allowInsecureConnection: true,
        }),
        () => now,
      ),
  ],
];

describe.each(adapters)('retention on %s', (_, createStore) => {
  it('when many finished jobs are past retention, then they go in bounded batches, and nothing else does', async () => {
    const store = createStore();
    const old = [
      ...Array.from({ length: 120 }, () => jobAged('Completed', 40)),
      ...Array.from({ length: 60 }, () => jobAged('DeadLettered', 31)),
      ...Array.from({ length: 30 }, () => jobAged('Cancelled', 45)),
    ];
    const kept = [
      ...Array.from({ length: 15 }, () => jobAged('Completed', 5)),
      ...Array.from({ length: 10 }, () => jobAged('Running', 40)),
      ...Array.from({ length: 10 }, () => jobAged('Retrying', 60)),
    ];
    for (const record of [...old, ...kept]) await store.create(record);
    const retention = (maxBatches: number) =>
      new JobRetention({
        store,
        retentionDays: 30,
        logger: silentLogger,
        batchSize: 50,
        maxBatches,
        now: () => now,
      });

    const first = await retention(2).run();
    const second = await retention(20).run();

    expect(first).toEqual({ removed: 100, more: true });
    expect(second).toEqual({ removed: 110, more: false });
    for (const record of old) expect(await store.get(record.jobId)).toBeUndefined();
    for (const record of kept) expect((await store.get(record.jobId))?.record.status).toBe(record.status);
    const listed = await store.list({ limit: 100, status: 'Completed' });
    expect(listed.jobs.map((job) => job.jobId).sort()).toEqual(
      kept
        .filter((job) => job.status === 'Completed')
        .map((job) => job.jobId)
        .sort(),
    );
  });
});

describe('a retention run', () => {
  it('stops once its time budget is spent, between batches, and says there is more', async () => {
    const store = new InMemoryJobStore();
    for (let job = 0; job < 30; job += 1) await store.create(jobAged('Completed', 40));
    let elapsed = 0;
    const retention = new JobRetention({
      store,
      retentionDays: 30,
      logger: silentLogger,
      batchSize: 10,
      runBudgetMs: 2_500,
      now: () => now,
      // Each look at the clock is a second later: the budget allows the first two batches.
      elapsedMs: () => (elapsed += 1_000) - 1_000,
    });

    const first = await retention.run();
    const second = await retention.run();

    expect(first).toEqual({ removed: 20, more: true });
    expect(second).toEqual({ removed: 10, more: false });
  });
});

describe('the in-memory store', () => {
  it('keeps at most its limit of finished jobs, the longest finished first out, and every unfinished one', async () => {
    const store = new InMemoryJobStore(3);
    const running = jobAged('Running', 1);
    await store.create(running);
    const finished = Array.from({ length: 5 }, () => jobAged('Queued', 1));
    for (const record of finished) {
      const created = await store.create(record);
      if (!created.created) throw new Error('expected a new job');
      await store.replace({ ...record, status: 'Completed' }, created.stored.etag);
    }

    const left = await Promise.all(
      finished.map(async (record) => (await store.get(record.jobId)) !== undefined),
    );

    expect(left).toEqual([false, false, true, true, true]);
    expect(await store.get(running.jobId)).toBeDefined();
  });
});
