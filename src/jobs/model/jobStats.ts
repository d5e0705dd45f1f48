import type { JobOutcome, JobOutcomeStatus } from './jobOutcome';
import type { JobRecord, JobStatus } from './jobRecord';

/** What the dashboard counts: jobs by job type and status, and attempt outcomes per minute. */
export interface JobStatsQuery {
  /** Jobs submitted at or after this are counted by job type and status. */
  submittedSince: Date;
  /** Attempt outcomes at or after this are counted per minute. */
  outcomesSince: Date;
  /** Most listing entries, and most outcomes, one call reads: past it the counts cover the newest only. */
  maxEntries: number;
}

/**
 * Outcomes of one minute: `failed` counts both retryable failures and poisoned attempts; `cancelled` counts the
 * attempts an operator's cancel ended (see {@link countedOutcomeStatus}), which are not failures.
 */
export interface MinuteOutcomes {
  completed: number;
  failed: number;
  cancelled: number;
}

export interface JobStatsSnapshot {
  /** Per job type, jobs per status (statuses with none left out). */
  byJobType: Record<string, Partial<Record<JobStatus, number>>>;
  /** Jobs counted. */
  jobsCounted: number;
  /** Of the DeadLettered jobs counted, those whose dead-lettered message was discarded ({@link isDiscardedDeadLetter}). */
  deadLetteredDiscarded: number;
  /** More jobs were submitted in the window than `maxEntries`: only the newest were counted. */
  jobsTruncated: boolean;
  /** Per minute (`minuteKey`), only minutes with an outcome. */
  outcomesByMinute: Record<string, MinuteOutcomes>;
  /** More outcomes than `maxEntries` in the window: only the newest were counted. */
  outcomesTruncated: boolean;
}

const minuteMs = 60_000;

/** The minute `at` (a date, ISO text or epoch ms) falls in, as ISO text to the minute (`2026-01-01T12:34Z`). */
export function minuteKey(at: Date | string | number): string {
  return `${new Date(at).toISOString().slice(0, 16)}Z`;
}

/** How the stats count an attempt: as its outcome says, or `Cancelled` when an operator's cancel ended it. */
export type CountedOutcomeStatus = JobOutcomeStatus | 'Cancelled';

/**
 * How an attempt of `record` is counted. The run a cancel stopped is recorded `Failed` ("The job was cancelled.", or
 * whatever the handler threw on its aborted signal), but it is no failure: it is the attempt that ended its job
 * `Cancelled`, the record's last outcome, ended at the moment the job did. A job cancelled while it waited (queued,
 * or between attempts) ended later than its last outcome, which is counted as it was. A run that completed despite
 * the cancel counts as completed.
 */
export function countedOutcomeStatus(record: JobRecord, outcome: JobOutcome): CountedOutcomeStatus {
  const last = record.lastOutcome;
  const endedByCancel =
    record.status === 'Cancelled' &&
    outcome.status !== 'Completed' &&
    last?.attempt === outcome.attempt &&
    last.completedAt === outcome.completedAt &&
    record.completedAt === outcome.completedAt;
  return endedByCancel ? 'Cancelled' : outcome.status;
}

/**
 * Whether `record` is a DeadLettered job whose dead-lettered message an operator discarded (its last dead-letter
 * action): its record stays DeadLettered, and the dead-letter queue no longer holds its message.
 */
export function isDiscardedDeadLetter(record: JobRecord): boolean {
  return record.status === 'DeadLettered' && record.deadLetterActions.at(-1)?.action === 'Discarded';
}

export interface CountableOutcome {
  /** Unique per attempt: see {@link outcomeKey}. */
  key: string;
  /** The minute the attempt ended in ({@link minuteKey}). */
  minute: string;
  completedAtMs: number;
  status: CountedOutcomeStatus;
  jobType: string;
}

/**
 * The outcome a store counts per minute for a record it writes: the last attempt's, once the attempt is over (the
 * job is no longer Running). Each attempt's outcome is the last one in at least one such write, so counting them by
 * {@link outcomeKey} counts every attempt once, however often the record is written afterwards.
 */
export function countableOutcome(record: JobRecord): CountableOutcome | undefined {
  const outcome = record.lastOutcome;
  if (!outcome || record.status === 'Running') return undefined;
  return {
    key: outcomeKey(record.jobId, outcome.completedAt, outcome.attempt),
    minute: minuteKey(outcome.completedAt),
    completedAtMs: Date.parse(outcome.completedAt),
    status: countedOutcomeStatus(record, outcome),
    jobType: record.jobType,
  };
}

/** One attempt's identity: its job, when it ended and its number (a replay counts attempts from 1 again). */
export function outcomeKey(jobId: string, completedAt: string, attempt: number): string {
  return `${jobId}-${Date.parse(completedAt)}-${attempt}`;
}

/** Counts one attempt that ended in `minute` with `status` (a {@link CountedOutcomeStatus}, as a store kept it). */
export function addOutcome(byMinute: Record<string, MinuteOutcomes>, minute: string, status: string): void {
  const counts = (byMinute[minute] ??= noOutcomes());
  if (status === 'Completed') counts.completed += 1;
  else if (status === 'Cancelled') counts.cancelled += 1;
  else counts.failed += 1;
}

function noOutcomes(): MinuteOutcomes {
  return { completed: 0, failed: 0, cancelled: 0 };
}

export function addJob(byJobType: JobStatsSnapshot['byJobType'], jobType: string, status: JobStatus): void {
  const counts = (byJobType[jobType] ??= {});
  counts[status] = (counts[status] ?? 0) + 1;
}

export interface JobStatsReport {
  generatedAt: string;
  submittedSince: string;
  byStatus: Partial<Record<JobStatus, number>>;
  byJobType: Record<string, Partial<Record<JobStatus, number>>>;
  total: number;
  /**
   * Of the jobs counted `DeadLettered`, those whose dead-lettered message an operator discarded: they stay
   * DeadLettered, and are no longer in the dead-letter queue.
   */
  deadLetteredDiscarded: number;
  truncated: boolean;
  /** One entry per minute, oldest first, the current minute last; minutes without outcomes count zero. */
  perMinute: Array<{ minute: string } & MinuteOutcomes>;
  perMinuteTruncated: boolean;
}

/** The stats as the API answers them: totals per status, and a dense series of `minutes` minutes up to `now`. */
export function jobStatsReport(
  snapshot: JobStatsSnapshot,
  { now, submittedSince, minutes }: { now: Date; submittedSince: Date; minutes: number },
): JobStatsReport {
  const byStatus: Partial<Record<JobStatus, number>> = {};
  for (const counts of Object.values(snapshot.byJobType)) {
    for (const [status, count] of Object.entries(counts) as Array<[JobStatus, number]>)
      byStatus[status] = (byStatus[status] ?? 0) + count;
  }
  const first = minutesWindowStart(now, minutes).getTime();
  const perMinute = Array.from({ length: minutes }, (_, index) => {
    const minute = minuteKey(new Date(first + index * minuteMs));
    return { minute, ...(snapshot.outcomesByMinute[minute] ?? noOutcomes()) };
  });
  return {
    generatedAt: now.toISOString(),
    submittedSince: submittedSince.toISOString(),
    byStatus,
    byJobType: snapshot.byJobType,
    total: snapshot.jobsCounted,
    deadLetteredDiscarded: snapshot.deadLetteredDiscarded,
    truncated: snapshot.jobsTruncated,
    perMinute,
    perMinuteTruncated: snapshot.outcomesTruncated,
  };
}

/** The first moment of the window of `minutes` minutes that ends with the current minute. */
export function minutesWindowStart(now: Date, minutes: number): Date {
  return new Date((Math.floor(now.getTime() / minuteMs) - (minutes - 1)) * minuteMs);
}
