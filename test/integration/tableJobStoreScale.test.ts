import type { ScaleFigures } from '../../bench/costModel/jobTableScale';
import { measureJobTable } from '../../bench/costModel/jobTableScale';
import { millionJobsADay } from '../../bench/costModel/jobTableLayout';
import { jobTableAtScale } from '../../bench/costModel/jobTableScale';
import { minutesWindowStart } from '../../src/jobs/model/jobStats';
import { indexWrites } from '../../src/store/tableIndexRows';

// A day of a million jobs (1 million records) and 30 such days, the retention window (30 million), on the cost
// model: every operation measured on each, and its bound asserted on both (issue 25, goal 5).
jest.setTimeout(600_000);

let small: ScaleFigures;
let large: ScaleFigures;

beforeAll(async () => {
  small = await measureJobTable(1);
  large = await measureJobTable(30);
});

const sizes = () => [small, large];
const limit = 50;
const minutesPerDay = 1440;

describe('TableJobStore at 1 million and 30 million records', () => {
  it('seeds 1 and 30 days of a million jobs, with the index rows of each', () => {
    expect(small.records).toBe(1_000_000);
    expect(large.records).toBe(30_000_000);
    // Listing entries, four job types, a status or unfinished row, an outcome and two version rows a minute:
    // about four index rows a job.
    expect(small.indexRows).toBeGreaterThan(4 * small.records);
    expect(large.indexRows).toBeGreaterThan(4 * large.records);
  });

  it('holds for a Completed, a DeadLettered, a stuck, a Running and a Queued job the rows the store writes for it', async () => {
    const { table, seeded } = jobTableAtScale(2, true);
    const { jobsPerDay, stuckPerDay } = millionJobsADay;
    const jobs = [
      [0, 0, 'Completed'],
      [0, 99, 'DeadLettered'],
      [0, jobsPerDay / (stuckPerDay + 1), 'Running'],
      [1, jobsPerDay - 150, 'Running'],
      [1, jobsPerDay - 1, 'Queued'],
    ] as const;
    const rowOf = (partitionKey: string, rowKey: string) =>
      table.getEntity(partitionKey, rowKey).catch((error: { statusCode?: number }) => error.statusCode);

    for (const [day, index, status] of jobs) {
      const record = seeded.recordOf(day, index);
      expect(record.status).toBe(status);
      expect(await rowOf(record.jobId, 'job')).toMatchObject({ record: JSON.stringify(record), status });
      for (const { partitionKey, rows } of indexWrites(record)) {
        for (const row of rows) {
          if (row.kind === 'delete') expect(await rowOf(partitionKey, row.rowKey)).toBe(404);
          else expect(await rowOf(partitionKey, row.entity.rowKey)).toMatchObject(row.entity);
        }
      }
    }
  });

  it('sweeps for unfinished jobs with a query a day in the table and a read a job found: requests = 2 + (days + 1) + found', () => {
    for (const size of sizes()) {
      const { sweep } = size.figures;
      // Every stuck job is found (fewer than the limit of 200), and none of the newest minutes' unfinished ones.
      expect(sweep.jobs).toBe(size.stuck);
      // The outbox, the oldest index partition, then the `u|` range of each day (and the day after now's).
      expect(sweep.requests).toBe(2 + size.sweptDays + sweep.jobs);
      // The oldest partition's first row, each day's `u|` rows (its stuck jobs; the newest day's unfinished ones
      // too), and the found jobs' records.
      expect(sweep.entitiesRead).toBe(1 + size.stuck + millionJobsADay.unfinishedAtEnd + sweep.jobs);
    }
    const extraDays = large.days - small.days;
    // Each extra day: its query, its stuck jobs' reads; its `u|` rows and their records read.
    expect(large.figures.sweep.requests).toBe(
      small.figures.sweep.requests + extraDays * (1 + millionJobsADay.stuckPerDay),
    );
    expect(large.figures.sweep.entitiesRead).toBe(
      small.figures.sweep.entitiesRead + extraDays * 2 * millionJobsADay.stuckPerDay,
    );
  });

  it('removes a batch of 100 past retention in the same requests at 1M and 30M (about three a job), and finds nothing in one request when nothing is past it', () => {
    for (const size of sizes()) {
      const { retentionIdle, retentionBusy } = size.figures;
      expect(retentionIdle).toMatchObject({ requests: 1, entitiesRead: 1, entitiesWritten: 0, jobs: 0 });
      expect(retentionBusy.jobs).toBe(100);
      // A page of entries, then per job: its record read to find it, read again and deleted to remove it; its index
      // rows go in shared transactions (100 actions each).
      expect(retentionBusy.requests).toBeLessThanOrEqual(2 + 3 * 100 + 10);
      expect(retentionBusy.entitiesRead).toBeLessThanOrEqual(1 + 100 + 2 * 100);
    }
    expect(large.figures.retentionBusy).toEqual(small.figures.retentionBusy);
  });

  it('reads stats from rollups in steady state: each day and kind in the window costs the versions and rollups of its minutes (2 x 1,440 rows), plus the rows of the minutes still settling', () => {
    for (const size of sizes()) {
      const { statsSteady } = size.figures;
      const steady = size.stats.steady;
      const { now } = size.seeded;
      const submitted = size.seeded.jobsSubmitted(now.getTime() - 24 * 3_600_000, now.getTime() + 1);
      const byStatus: Record<string, number> = {};
      for (const counts of Object.values(steady.byJobType))
        for (const [status, count] of Object.entries(counts))
          byStatus[status] = (byStatus[status] ?? 0) + count;

      expect(steady.jobsTruncated).toBe(false);
      expect(steady.outcomesTruncated).toBe(false);
      expect(byStatus).toEqual(submitted);
      const hourStart = minutesWindowStart(now, 60).getTime();
      const minute = new Date(hourStart).toISOString().slice(0, 16) + 'Z';
      expect(steady.outcomesByMinute[minute]).toEqual(
        size.seeded.outcomesEnded(hourStart, hourStart + 60_000),
      );
      // Read: the versions and rollups of each day and kind in the window (jobs: 24 h, two days; outcomes: the
      // newest day), 2 x 1,440 rows, and the newest three minutes (not settled) row by row, about 700 jobs and 700
      // outcomes a minute. Requests: 1,000 rows a page, and a query per day and kind for the unsettled minutes.
      const rowsPerMinute = Math.ceil(millionJobsADay.jobsPerDay / minutesPerDay);
      const dayKinds = Math.min(size.days, 2) + 1;
      const unsettledRows = 2 * 3 * rowsPerMinute;
      expect(statsSteady.entitiesRead).toBeLessThanOrEqual(dayKinds * 2 * minutesPerDay + unsettledRows);
      expect(statsSteady.requests).toBeLessThanOrEqual(
        1 + dayKinds * 5 + Math.ceil(unsettledRows / 1000) + 1,
      );
    }
    // 24 hours span two day partitions at most, whatever the days in the table: one more day's versions and rollups.
    expect(large.figures.statsSteady.entitiesRead).toBeLessThanOrEqual(
      small.figures.statsSteady.entitiesRead + 2 * minutesPerDay,
    );
    expect(large.figures.statsSteady.requests).toBeLessThanOrEqual(small.figures.statsSteady.requests + 4);
  });

  it('stops a reading without rollups at maxEntries (20,000) rows of each kind, at 1M and 30M alike', () => {
    for (const size of sizes()) {
      const { statsFirst, statsAgain } = size.figures;
      const first = size.stats.first;

      expect(first.jobsTruncated).toBe(true);
      expect(first.jobsCounted).toBe(20_000);
      expect(statsFirst.entitiesRead).toBeLessThanOrEqual(2 * 20_001 + 2 * 4 * minutesPerDay);
      expect(statsAgain.entitiesRead).toBeLessThanOrEqual(2 * 20_001 + 2 * 4 * minutesPerDay);
    }
    expect(large.figures.statsFirst).toEqual(small.figures.statsFirst);
  });

  it('lists a first page of 50 with one index query and a read a job, whatever the filter, at 1M and 30M alike', () => {
    for (const size of sizes()) {
      const { listAll, listDeadLettered, listType, listTypeCompleted } = size.figures;
      for (const listed of [listAll, listDeadLettered, listType, listTypeCompleted]) {
        expect(listed.jobs).toBe(limit);
        expect(listed.requests).toBe(1 + limit);
      }
      expect(listAll.entitiesRead).toBe(2 * limit);
      // A type with a terminal status reads past the type's unfinished rows: at most all of the newest day's.
      expect(listTypeCompleted.entitiesRead).toBeLessThanOrEqual(2 * limit + millionJobsADay.unfinishedAtEnd);
    }
    for (const operation of ['listAll', 'listDeadLettered', 'listType', 'listTypeCompleted'] as const)
      expect(large.figures[operation]).toEqual(small.figures[operation]);
  });

  it('lists Running from the unfinished rows only: no more reads than the unfinished jobs and their records', () => {
    for (const size of sizes()) {
      const { listRunning } = size.figures;
      expect(listRunning.jobs).toBe(limit);
      expect(listRunning.entitiesRead).toBeLessThanOrEqual(
        2 * (millionJobsADay.unfinishedAtEnd + size.stuck),
      );
    }
    expect(large.figures.listRunning).toEqual(small.figures.listRunning);
  });

  it("writes a job's life (create, claim, completion) in at most 5 requests and 14 entities alone, fewer a job 100 at once", () => {
    for (const size of sizes()) {
      const { jobLife, jobLifeBatch } = size.figures;
      expect(jobLife.requests).toBeLessThanOrEqual(5);
      expect(jobLife.entitiesRead).toBe(0);
      // The record three times; its index rows: 4 at create, then the claim's (lingering) and the completion's in one
      // transaction: 7 (the `u|` row deleted).
      expect(jobLife.entitiesWritten).toBeLessThanOrEqual(3 + 4 + 7);
      expect(jobLifeBatch.requests).toBeLessThan(jobLife.requests);
      expect(jobLifeBatch.entitiesWritten).toBeLessThanOrEqual(jobLife.entitiesWritten);
    }
  });

  it('costs the design before it a read of every row of the table: at least 1,000 requests a million records', () => {
    for (const size of sizes()) {
      const { oldRetentionScan } = size.figures;
      expect(oldRetentionScan.entitiesRead).toBeGreaterThanOrEqual(size.records + size.indexRows);
      expect(oldRetentionScan.requests).toBeGreaterThanOrEqual(size.records / 1000);
    }
    expect(large.figures.oldRetentionScan.requests).toBeGreaterThanOrEqual(30_000);
  });
});
