import type { JobRecord, JobStatus } from '../../src/jobs/model/jobRecord';
import type { MinuteOutcomes } from '../../src/jobs/model/jobStats';
import { addJob, minuteKey, outcomeKey } from '../../src/jobs/model/jobStats';
import type { RollupKind } from '../../src/store/minuteRollups';
import { minuteCountdown, rollupRowKey, versionRowKey } from '../../src/store/minuteRollups';
import {
  indexAddress,
  indexPartition,
  jobTypeRange,
  outcomeRowKey,
  statusRange,
  unfinishedRange,
} from '../../src/store/tableIndexRows';
import type { CostModelTable, Properties } from './tableCostModel';
import { syntheticEtag } from './tableCostModel';

/** What a seeded table of job records holds. */
export interface JobTableShape {
  /** Days of jobs, the newest ending at the store's `now`. */
  days: number;
  jobsPerDay: number;
  /** Jobs still unfinished at the end of the newest day (its newest ones): the newest `queuedAtEnd` Queued, the rest Running. */
  unfinishedAtEnd: number;
  queuedAtEnd: number;
  /** Jobs left Running on every day, spread evenly over it (a worker lost them): what the sweep finds. */
  stuckPerDay: number;
  /** Every `deadLetterEvery`-th job is DeadLettered; the other finished ones Completed. */
  deadLetterEvery: number;
  jobTypes: readonly string[];
  /** Rollups current for every settled minute (the dashboard has been read all along), or none (never read). */
  rollups: boolean;
  /** The first day, `YYYY-MM-DD`. */
  firstDay: string;
}

export const millionJobsADay: Omit<JobTableShape, 'days' | 'rollups'> = {
  jobsPerDay: 1_000_000,
  unfinishedAtEnd: 300,
  queuedAtEnd: 100,
  stuckPerDay: 3,
  deadLetterEvery: 100,
  jobTypes: ['email.send', 'report.generate', 'thumbnail.render', 'webhook.deliver'],
  firstDay: '2026-01-01',
};

export interface SeededJobTable {
  /** The end of the newest day: the store's clock. */
  now: Date;
  records: number;
  /** Index partitions, oldest first. */
  partitions: string[];
  /** Jobs Running since long ago, every day's. */
  stuck: number;
  /** Jobs unfinished at the end (newest day), stuck ones apart. */
  unfinishedAtEnd: number;
  /** Index rows in the table (every day's partition, every kind). */
  indexRows: number;
  recordOf(day: number, index: number): JobRecord;
  /** Jobs submitted in `[fromMs, toMs)` (the newest day and the one before it), by status. */
  jobsSubmitted(fromMs: number, toMs: number): Record<string, number>;
  /** Attempts ended in `[fromMs, toMs)`. */
  outcomesEnded(fromMs: number, toMs: number): MinuteOutcomes;
}

const dayMs = 86_400_000;
const minuteMs = 60_000;
const minutesPerDay = 1440;
const startedAfterMs = 5;
const finishedAfterMs = 40;
// As minuteRollups settles them: a minute whose end is this close to now is still counted, not rolled up.
const settleMs = 2 * minuteMs;

/**
 * Seeds `table` with job records and their index rows laid out as `TableJobStore` writes them (the key functions of
 * tableIndexRows and minuteRollups), generated on demand: the record entity per jobId, and per day the listing
 * entries, `t|`, `s|`, `u|` and `o|` rows, the minutes' version rows, and, when asked, rollups current with them.
 * Every job ends within the minute after it was submitted, on its day; each finished job has one outcome.
 */
export function seedJobTable(table: CostModelTable, shape: JobTableShape): SeededJobTable {
  const { days, jobsPerDay: n } = shape;
  if (n > 2_000_000 || n < minutesPerDay) throw new Error('1,440 to 2 million jobs a day.');
  const firstDayMs = Date.parse(`${shape.firstDay}T00:00:00Z`);
  const nowMs = firstDayMs + days * dayMs - 1;
  const layouts = Array.from(
    { length: days },
    (_, day) => new DayLayout(shape, day, firstDayMs + day * dayMs, nowMs),
  );

  const recordOf = (day: number, index: number) => (layouts[day] as DayLayout).record(index);
  table.seedPartitions(
    days * n,
    (at) => jobIdOf(Math.floor(at / n), at % n),
    'job',
    (at) => {
      const layout = layouts[Math.floor(at / n)] as DayLayout;
      const index = at % n;
      const status = layout.status(index);
      const updatedAt = new Date(layout.updatedMs(index));
      return {
        get record() {
          return JSON.stringify(layout.record(index));
        },
        writeId: 'seeded',
        status,
        jobType: layout.jobType(index),
        updatedAt,
        timestamp: updatedAt,
      };
    },
    { updatedAt: { min: new Date(firstDayMs), max: new Date(nowMs) } },
  );
  let indexRows = 0;
  for (const layout of layouts) indexRows += layout.seed(table);

  const newest = layouts[days - 1] as DayLayout;
  const previous = layouts[days - 2];
  return {
    now: new Date(nowMs),
    records: days * n,
    partitions: layouts.map((layout) => layout.partition),
    stuck: days * shape.stuckPerDay,
    unfinishedAtEnd: shape.unfinishedAtEnd,
    indexRows,
    recordOf,
    jobsSubmitted: (fromMs, toMs) => {
      const counts: Record<string, number> = {};
      for (const layout of [previous, newest]) layout?.countSubmitted(fromMs, toMs, counts);
      return counts;
    },
    outcomesEnded: (fromMs, toMs) => newest.outcomesEnded(fromMs, toMs),
  };
}

/** UUID-shaped, increasing with (day, index). */
export function jobIdOf(day: number, index: number): string {
  return `${String(day).padStart(8, '0')}-0000-4000-8000-${String(index).padStart(12, '0')}`;
}

/** One day of jobs: which job is where, computed from its index (0: the day's first). */
class DayLayout {
  readonly partition: string;
  private readonly n: number;
  private readonly stuck: number[];
  private readonly tailFrom: number;
  private readonly queuedFrom: number;
  /** The first job whose attempt ended in each minute of the day (1,441 entries: the last is `n`). */
  private readonly endedFrom: number[] = [];
  /** The first job submitted in each minute of the day. */
  private readonly submittedFrom: number[] = [];
  private readonly rollupCounts = new Map<string, string>();

  constructor(
    private readonly shape: JobTableShape,
    private readonly day: number,
    private readonly dayStartMs: number,
    private readonly nowMs: number,
  ) {
    this.n = shape.jobsPerDay;
    this.partition = indexPartition(new Date(dayStartMs));
    this.stuck = Array.from({ length: shape.stuckPerDay }, (_, at) =>
      Math.floor(((at + 1) * this.n) / (shape.stuckPerDay + 1)),
    );
    const newest = dayStartMs + dayMs > nowMs;
    this.tailFrom = newest ? this.n - shape.unfinishedAtEnd : this.n;
    this.queuedFrom = newest ? this.n - shape.queuedAtEnd : this.n;
    for (let minute = 0; minute <= minutesPerDay; minute += 1) {
      const at = dayStartMs + minute * minuteMs;
      this.submittedFrom.push(firstIndex(this.n, (index) => this.submittedMs(index) >= at));
      this.endedFrom.push(firstIndex(this.n, (index) => this.submittedMs(index) + finishedAfterMs >= at));
    }
  }

  submittedMs(index: number): number {
    return this.dayStartMs + Math.floor((index * dayMs) / this.n);
  }

  jobType(index: number): string {
    return this.shape.jobTypes[index % this.shape.jobTypes.length] as string;
  }

  isUnfinished(index: number): boolean {
    return index >= this.tailFrom || this.stuck.includes(index);
  }

  status(index: number): JobStatus {
    if (index >= this.queuedFrom) return 'Queued';
    if (this.isUnfinished(index)) return 'Running';
    return this.isDeadLettered(index) ? 'DeadLettered' : 'Completed';
  }

  updatedMs(index: number): number {
    const status = this.status(index);
    const submitted = this.submittedMs(index);
    return status === 'Queued'
      ? submitted
      : submitted + (status === 'Running' ? startedAfterMs : finishedAfterMs);
  }

  record(index: number): JobRecord {
    const jobId = jobIdOf(this.day, index);
    const jobType = this.jobType(index);
    const status = this.status(index);
    const submitted = this.submittedMs(index);
    const iso = (ms: number) => new Date(ms).toISOString();
    const started = status === 'Queued' ? null : iso(submitted + startedAfterMs);
    const finished = status === 'Completed' || status === 'DeadLettered';
    const outcome = finished
      ? {
          jobId,
          jobType,
          status: status === 'Completed' ? ('Completed' as const) : ('Poisoned' as const),
          durationMs: finishedAfterMs - startedAfterMs,
          errorMessage: status === 'Completed' ? null : 'The payload names no such account.',
          attempt: 1,
          completedAt: iso(submitted + finishedAfterMs),
        }
      : null;
    return {
      jobId,
      jobType,
      status,
      cycle: 1,
      attempt: status === 'Queued' ? 0 : 1,
      deliveredAttempt: status === 'Queued' ? null : 1,
      maxAttempts: 5,
      subjectId: `subject-${index % 1000}`,
      correlationId: `correlation-${jobId}`,
      idempotencyKey: `key-${jobId}`,
      submittedAt: iso(submitted),
      startedAt: started,
      completedAt: outcome?.completedAt ?? null,
      updatedAt: iso(this.updatedMs(index)),
      nextAttemptAt: null,
      lastOutcome: outcome,
      outcomes: outcome ? [outcome] : [],
      deadLetterReason: status === 'DeadLettered' ? 'Poisoned' : null,
      deadLetterDescription: status === 'DeadLettered' ? 'The handler refused the payload.' : null,
      claimedBy: status === 'Running' ? 'worker-1' : null,
      claimExpiresAt: status === 'Running' ? iso(submitted + startedAfterMs + 300_000) : null,
      deadLetterActions: [],
      cancelRequestedAt: null,
      progress: null,
    };
  }

  /** Seeds the day's index partition; returns the rows it holds. */
  seed(table: CostModelTable): number {
    const { n, partition } = this;
    const suffix = (index: number) =>
      indexAddress({
        jobId: jobIdOf(this.day, index),
        submittedAt: new Date(this.submittedMs(index)).toISOString(),
      }).suffix;
    const entry = (index: number): Properties => ({
      jobId: jobIdOf(this.day, index),
      jobType: this.jobType(index),
      status: this.status(index),
      updatedAt: new Date(this.updatedMs(index)),
    });
    const updatedAt = { min: new Date(this.dayStartMs), max: new Date(this.dayStartMs + dayMs) };
    let rows = 0;
    // Rows of one kind, newest job first: the `rank`-th newest of those `counted` counts.
    const newestFirst = (prefix: string, counted: (below: number) => number) => {
      const count = counted(n);
      table.seedPartition(
        partition,
        count,
        (rank) => `${prefix}${suffix(nthOf(n, counted, count - 1 - rank))}`,
        (rank) => entry(nthOf(n, counted, count - 1 - rank)),
        { updatedAt },
      );
      rows += count;
    };
    newestFirst('', (below) => below);
    for (const [at, jobType] of this.shape.jobTypes.entries()) {
      const types = this.shape.jobTypes.length;
      newestFirst(jobTypeRange(jobType).from, (below) => Math.max(0, Math.ceil((below - at) / types)));
    }
    newestFirst(
      statusRange('Completed').from,
      (below) => this.finishedBelow(below) - this.deadLetteredBelow(below),
    );
    newestFirst(statusRange('DeadLettered').from, (below) => this.deadLetteredBelow(below));
    newestFirst(unfinishedRange.from, (below) => below - this.finishedBelow(below));

    // Outcome rows: newest minute first, then by outcome key (the jobId's order).
    const minutes = Array.from({ length: minutesPerDay }, (_, at) => minutesPerDay - 1 - at);
    const before: number[] = [0];
    for (const minute of minutes) {
      const inMinute =
        this.finishedBelow(this.endedFrom[minute + 1] as number) -
        this.finishedBelow(this.endedFrom[minute] as number);
      before.push((before.at(-1) as number) + inMinute);
    }
    const outcomeAt = (rank: number) => {
      const at = firstIndex(minutesPerDay, (k) => (before[k + 1] as number) > rank);
      const minute = minutes[at] as number;
      const offset = rank - (before[at] as number);
      return nthOf(
        n,
        (below) => this.finishedBelow(below),
        this.finishedBelow(this.endedFrom[minute] as number) + offset,
      );
    };
    const outcomes = before.at(-1) as number;
    table.seedPartition(
      partition,
      outcomes,
      (rank) => {
        const index = outcomeAt(rank);
        const ended = this.submittedMs(index) + finishedAfterMs;
        return outcomeRowKey(
          new Date(ended),
          outcomeKey(jobIdOf(this.day, index), new Date(ended).toISOString(), 1),
        );
      },
      (rank) => {
        const index = outcomeAt(rank);
        const ended = new Date(this.submittedMs(index) + finishedAfterMs);
        return {
          status: this.isDeadLettered(index) ? 'Poisoned' : 'Completed',
          jobType: this.jobType(index),
          minute: minuteKey(ended),
          completedAt: ended,
        };
      },
      { completedAt: updatedAt },
    );
    rows += outcomes;

    // Each minute's version row (every index transaction upserted it) and, when asked, its rollup counted at it.
    for (const kind of ['j', 'o'] as const) {
      table.seedPartition(
        partition,
        minutesPerDay,
        (rank) => versionRowKey(kind, this.minute(minutesPerDay - 1 - rank)),
        (rank) => ({ timestamp: new Date(this.versionMs(minutesPerDay - 1 - rank)) }),
      );
      rows += minutesPerDay;
      if (!this.shape.rollups) continue;
      const settled = this.settledMinutes();
      table.seedPartition(
        partition,
        settled,
        (rank) => rollupRowKey(kind, this.minute(settled - 1 - rank)),
        (rank) => {
          const minute = settled - 1 - rank;
          return {
            basedOn: syntheticEtag(new Date(this.versionMs(minute))),
            counts: this.rollupOf(kind, minute),
          };
        },
      );
      rows += settled;
    }
    return rows;
  }

  countSubmitted(fromMs: number, toMs: number, counts: Record<string, number>): void {
    const from = firstIndex(this.n, (index) => this.submittedMs(index) >= fromMs);
    const to = firstIndex(this.n, (index) => this.submittedMs(index) >= toMs);
    const finished = this.finishedBelow(to) - this.finishedBelow(from);
    const deadLettered = this.deadLetteredBelow(to) - this.deadLetteredBelow(from);
    const queued = Math.max(0, to - Math.max(from, this.queuedFrom));
    const add = (status: string, count: number) => {
      if (count > 0) counts[status] = (counts[status] ?? 0) + count;
    };
    add('Completed', finished - deadLettered);
    add('DeadLettered', deadLettered);
    add('Queued', queued);
    add('Running', to - from - finished - queued);
  }

  outcomesEnded(fromMs: number, toMs: number): MinuteOutcomes {
    const from = firstIndex(this.n, (index) => this.submittedMs(index) + finishedAfterMs >= fromMs);
    const to = firstIndex(this.n, (index) => this.submittedMs(index) + finishedAfterMs >= toMs);
    const failed = this.deadLetteredBelow(to) - this.deadLetteredBelow(from);
    return { completed: this.finishedBelow(to) - this.finishedBelow(from) - failed, failed, cancelled: 0 };
  }

  private isDeadLettered(index: number): boolean {
    return index % this.shape.deadLetterEvery === this.shape.deadLetterEvery - 1 && !this.isUnfinished(index);
  }

  /** Finished jobs among the first `below`. */
  private finishedBelow(below: number): number {
    const stuck = this.stuck.filter((index) => index < below).length;
    return below - stuck - Math.max(0, Math.min(below, this.n) - this.tailFrom);
  }

  /** DeadLettered jobs among the first `below`. */
  private deadLetteredBelow(below: number): number {
    const every = this.shape.deadLetterEvery;
    const periodic = (upTo: number) => Math.floor(upTo / every);
    const stuck = this.stuck.filter((index) => index < below && index % every === every - 1).length;
    const tail = below > this.tailFrom ? periodic(Math.min(below, this.n)) - periodic(this.tailFrom) : 0;
    return periodic(below) - stuck - tail;
  }

  private minute(minuteOfDay: number): string {
    return minuteCountdown(this.dayStartMs + minuteOfDay * minuteMs);
  }

  /** When a minute's rows were last written: its last job's end, or now for the newest minutes. */
  private versionMs(minuteOfDay: number): number {
    return Math.min(this.dayStartMs + (minuteOfDay + 1) * minuteMs + finishedAfterMs, this.nowMs);
  }

  /** Minutes of the day a reading at `now` rolls up (those ended `settleMs` before it). */
  private settledMinutes(): number {
    const settledEnd = Math.min(this.dayStartMs + dayMs, this.nowMs - settleMs);
    return Math.max(0, Math.floor((settledEnd - this.dayStartMs) / minuteMs));
  }

  /** A rollup's counts as minuteRollups writes them (JSON): jobs submitted in the minute, or attempts ended in it. */
  private rollupOf(kind: RollupKind, minuteOfDay: number): string {
    const key = `${kind}${minuteOfDay}`;
    let counts = this.rollupCounts.get(key);
    if (counts !== undefined) return counts;
    if (kind === 'o') {
      const start = this.dayStartMs + minuteOfDay * minuteMs;
      counts = JSON.stringify(this.outcomesEnded(start, start + minuteMs));
    } else {
      const jobs = { byJobType: {}, discarded: 0, jobs: 0 };
      for (
        let index = this.submittedFrom[minuteOfDay] as number;
        index < (this.submittedFrom[minuteOfDay + 1] as number);
        index += 1
      ) {
        addJob(jobs.byJobType, this.jobType(index), this.status(index));
        jobs.jobs += 1;
      }
      counts = JSON.stringify(jobs);
    }
    this.rollupCounts.set(key, counts);
    return counts;
  }
}

/** The first index in `[0, length)` for which `after` holds (`after` false then true), or `length`. */
function firstIndex(length: number, after: (index: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (after(middle)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** The index of the `nth` (from 0) of the jobs `countBelow` counts (the jobs below an index that it counts). */
function nthOf(n: number, countBelow: (below: number) => number, nth: number): number {
  return firstIndex(n, (index) => countBelow(index + 1) > nth);
}
