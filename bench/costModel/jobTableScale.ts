import { randomUUID } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import { JobRetention } from '../../src/jobs/maintenance/jobRetention';
import type { JobRecord } from '../../src/jobs/model/jobRecord';
import { newJobRecord } from '../../src/jobs/model/jobRecord';
import { newJobMessage } from '../../src/jobs/model/jobMessage';
import type { JobStatsSnapshot } from '../../src/jobs/model/jobStats';
import { minutesWindowStart } from '../../src/jobs/model/jobStats';
import { silentLogger } from '../../src/jobs/support/logger';
import { TableJobStore } from '../../src/store/tableJobStore';
import type { JobTableShape, SeededJobTable } from './jobTableLayout';
import { millionJobsADay, seedJobTable } from './jobTableLayout';
import type { Cost } from './tableCostModel';
import { CostModelTable } from './tableCostModel';

/** The operations measured, in the order they are printed. */
export const operations = {
  sweep: 'reconciler sweep: findUnfinished(now - 5 min, 200)',
  retentionIdle: 'retention batch, nothing past 30 days: findFinished(now - 30 d, 100) + removals',
  retentionBusy: "retention batch, the oldest day's first hour past the window: 100 found + removed",
  statsFirst: 'stats 24 h / outcomes 1 h, no rollups yet (first reading)',
  statsAgain: 'stats, no rollups: the next reading',
  statsSteady: 'stats, rollups current (steady state)',
  listAll: 'list, no filter (50)',
  listDeadLettered: 'list DeadLettered (50)',
  listRunning: 'list Running (50)',
  listType: 'list by job type (50)',
  listTypeCompleted: 'list by job type, Completed (50)',
  jobLife: "a job's life: create, claim, completion (one job)",
  jobLifeBatch: "a job's life, 100 jobs at once (per job)",
  oldRetentionScan: 'old design: retention scan of the records (RowKey eq job, updatedAt, status)',
} as const;

export type Operation = keyof typeof operations;

export interface Measured extends Cost {
  /** Jobs the operation found, listed or removed (stats: jobs counted). */
  jobs: number;
}

export interface ScaleFigures {
  days: number;
  records: number;
  indexRows: number;
  /** Days of index partitions the sweep walks (the table's days, and the one after `now`'s). */
  sweptDays: number;
  stuck: number;
  figures: Record<Operation, Measured>;
  /** The readings' answers, to check them against the seeded table. */
  stats: { first: JobStatsSnapshot; steady: JobStatsSnapshot };
  seeded: SeededJobTable;
  /** Milliseconds spent measuring. */
  elapsedMs: number;
}

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

/** A fresh table of `days` days of a million jobs, and the store on it at the newest day's end. */
export function jobTableAtScale(
  days: number,
  rollups: boolean,
  shape: Partial<JobTableShape> = {},
): { table: CostModelTable; store: TableJobStore; seeded: SeededJobTable } {
  const table = new CostModelTable();
  const seeded = seedJobTable(table, { ...millionJobsADay, days, rollups, ...shape });
  const store = new TableJobStore(table as unknown as TableClient, () => seeded.now);
  return { table, store, seeded };
}

/** Measures every operation on a table of `days` days of a million jobs each (a fresh table where one writes). */
export async function measureJobTable(
  days: number,
  shape: Partial<JobTableShape> = {},
): Promise<ScaleFigures> {
  const started = performance.now();
  const figures = {} as Record<Operation, Measured>;
  const fresh = (rollups = false) => jobTableAtScale(days, rollups, shape);

  // Every measurement starts on a store that has made its table and has nothing pending.
  const ready = async (store: TableJobStore) => void (await store.list({ limit: 1 }));

  {
    const { table, store, seeded } = fresh();
    await ready(store);
    const updatedBefore = new Date(seeded.now.getTime() - 5 * 60_000);
    const { result, cost } = await table.measure(() => store.findUnfinished({ updatedBefore, limit: 200 }));
    figures.sweep = measured(cost, result.length);
  }

  for (const [operation, now] of [
    ['retentionIdle', (seeded: SeededJobTable) => seeded.now],
    [
      'retentionBusy',
      (seeded: SeededJobTable) =>
        new Date(Date.parse(`${seeded.partitions[0]?.slice(6)}T01:00:00Z`) + 30 * dayMs),
    ],
  ] as const) {
    const { table, store, seeded } = fresh();
    await ready(store);
    const retention = new JobRetention({
      store,
      retentionDays: 30,
      logger: silentLogger,
      batchSize: 100,
      maxBatches: 1,
      now: () => now(seeded),
    });
    figures[operation] = await settled(table, store, async () => (await retention.run()).removed);
  }

  const statsQuery = (now: Date) => ({
    submittedSince: new Date(now.getTime() - 24 * hourMs),
    outcomesSince: minutesWindowStart(now, 60),
    maxEntries: 20_000,
  });
  let first: JobStatsSnapshot | undefined;
  {
    const { table, store, seeded } = fresh();
    await ready(store);
    for (const operation of ['statsFirst', 'statsAgain'] as const) {
      figures[operation] = await settled(table, store, async () => {
        const snapshot = await store.stats(statsQuery(seeded.now));
        first ??= snapshot;
        return snapshot.jobsCounted;
      });
    }
  }
  let steady: JobStatsSnapshot | undefined;
  {
    const { table, store, seeded } = fresh(true);
    await ready(store);
    figures.statsSteady = await settled(table, store, async () => {
      steady = await store.stats(statsQuery(seeded.now));
      return steady.jobsCounted;
    });
  }

  {
    const { table, store, seeded } = fresh();
    await ready(store);
    const jobType = seeded.recordOf(0, 1).jobType;
    for (const [operation, query] of [
      ['listAll', {}],
      ['listDeadLettered', { status: 'DeadLettered' }],
      ['listRunning', { status: 'Running' }],
      ['listType', { jobType }],
      ['listTypeCompleted', { jobType, status: 'Completed' }],
    ] as const) {
      const { result, cost } = await table.measure(() => store.list({ ...query, limit: 50 }));
      figures[operation] = measured(cost, result.jobs.length);
    }
  }

  {
    const { table, store, seeded } = fresh();
    await ready(store);
    figures.jobLife = await settled(table, store, async () => {
      await lifeOf(store, newJob(seeded.now));
      return 1;
    });
    const batch = await settled(table, store, async () => {
      await Promise.all(Array.from({ length: 100 }, () => lifeOf(store, newJob(seeded.now))));
      return 100;
    });
    figures.jobLifeBatch = {
      requests: batch.requests / 100,
      entitiesRead: batch.entitiesRead / 100,
      entitiesWritten: batch.entitiesWritten / 100,
      jobs: 1,
    };
  }

  {
    // The design before: a record carried status and updatedAt, and retention (as the sweep) scanned the records
    // for them across partitions: every row of the table read, whatever it finds.
    const { table, seeded } = fresh();
    const filter = [
      odata`RowKey eq 'job'`,
      odata`updatedAt lt ${new Date(seeded.now.getTime() - 30 * dayMs)}`,
      odata`(status eq 'Completed' or status eq 'DeadLettered' or status eq 'Cancelled')`,
    ].join(' and ');
    const { result, cost } = await table.measure(async () => {
      let found = 0;
      for await (const page of table
        .listEntities({ queryOptions: { filter, select: ['PartitionKey'] } })
        .byPage())
        found += page.length;
      return found;
    });
    figures.oldRetentionScan = measured(cost, result);
  }

  const { seeded } = fresh();
  return {
    days,
    records: seeded.records,
    indexRows: seeded.indexRows,
    sweptDays: days + 1,
    stuck: seeded.stuck,
    figures,
    stats: { first: first as JobStatsSnapshot, steady: steady as JobStatsSnapshot },
    seeded,
    elapsedMs: performance.now() - started,
  };
}

/**
 * What `action` cost, its index writes done: the listing of one job after it waits for the store's pending writes,
 * and what that listing costs by itself is taken off.
 */
async function settled(
  table: CostModelTable,
  store: TableJobStore,
  action: () => Promise<number>,
): Promise<Measured> {
  const settle = () => store.list({ limit: 1 });
  const { result, cost } = await table.measure(async () => {
    const jobs = await action();
    await settle();
    return jobs;
  });
  const { cost: listing } = await table.measure(settle);
  return {
    requests: cost.requests - listing.requests,
    entitiesRead: cost.entitiesRead - listing.entitiesRead,
    entitiesWritten: cost.entitiesWritten - listing.entitiesWritten,
    jobs: result,
  };
}

function measured({ requests, entitiesRead, entitiesWritten }: Cost, jobs: number): Measured {
  return { requests, entitiesRead, entitiesWritten, jobs };
}

function newJob(now: Date): JobRecord {
  const jobId = randomUUID();
  const message = newJobMessage(
    {
      jobId,
      jobType: 'email.send',
      payload: {},
      maxAttempts: 5,
      subjectId: 'subject-1',
      correlationId: `correlation-${jobId}`,
      idempotencyKey: `key-${jobId}`,
    },
    now,
  );
  return newJobRecord({ ...message, createdAt: now.toISOString() }, now.toISOString());
}

/** Create, claim (Running), complete: the three writes of a job that succeeds at its first attempt. */
async function lifeOf(store: TableJobStore, queued: JobRecord): Promise<void> {
  const created = await store.create(queued);
  if (!created.created) throw new Error('The job was not created.');
  const at = queued.submittedAt;
  const running: JobRecord = {
    ...queued,
    status: 'Running',
    attempt: 1,
    deliveredAttempt: 1,
    startedAt: at,
    claimedBy: 'worker-1',
    claimExpiresAt: at,
  };
  const claimed = await store.replace(running, created.stored.etag);
  if (claimed === undefined) throw new Error('The claim did not apply.');
  const outcome = {
    jobId: queued.jobId,
    jobType: queued.jobType,
    status: 'Completed' as const,
    durationMs: 1,
    errorMessage: null,
    attempt: 1,
    completedAt: at,
  };
  const completed: JobRecord = {
    ...running,
    status: 'Completed',
    completedAt: at,
    lastOutcome: outcome,
    outcomes: [outcome],
    claimedBy: null,
    claimExpiresAt: null,
  };
  if ((await store.replace(completed, claimed)) === undefined)
    throw new Error('The completion did not apply.');
}
