import type { JobRecord, JobStatus } from '../jobs/model/jobRecord';
import { isTerminalJobStatus } from '../jobs/model/jobRecord';
import { countableOutcome, isDiscardedDeadLetter, outcomeKey } from '../jobs/model/jobStats';
import type { RowWrite } from './entityGroupWriter';
import { minuteCountdown, versionBump } from './minuteRollups';
import type { RowRange } from './rowRange';
import { prefixRange } from './rowRange';

/*
 * The index of a job lives in the partition of the day it was submitted (`index-YYYY-MM-DD`), every row of it keyed
 * by the job's countdown (newest first) and jobId, so that one entity group transaction writes all of them:
 *
 *   <countdown>-<jobId>                 the listing entry: every job, newest first
 *   t|<jobType>|<countdown>-<jobId>     the same, by job type
 *   u|<countdown>-<jobId>               while the job is unfinished: what the sweep reads
 *   s|<status>|<countdown>-<jobId>      once it is finished, by terminal status
 *   o|<minute>|<outcome key>            an attempt that ended on that day, per minute newest first (the stats)
 *   v|j|<minute>, r|j|<minute>          the version and rollup of the jobs submitted in a minute (minuteRollups)
 *   v|o|<minute>, r|o|<minute>          the same of the outcomes of a minute
 *
 * The prefixes sort after the digits of listing entries, so each kind of row is one range of the partition.
 */

const indexPartitionPrefix = 'index-';
// Newest first in Table Storage's ascending key order: the row key counts down from the end of time.
const maxTimestampMs = 9_999_999_999_999;
/** Outcomes of attempts that ended on another day than their job's submission: a partition per minute. */
export const outcomePartitionPrefix = 'outcomes-';

/** Listing entries: countdown digits, before every prefixed row (':' follows '9'). */
export const listingRange: RowRange = { from: '', to: ':' };
export const unfinishedRange: RowRange = prefixRange('u|');

export function statusRange(status: JobStatus): RowRange {
  return prefixRange(`s|${status}|`);
}

/** A job type may hold any character; in a row key it is base64url (no '/', '\\', '#', '?', '%' or '|'). */
export function jobTypeRange(jobType: string): RowRange {
  return prefixRange(`t|${Buffer.from(jobType, 'utf8').toString('base64url')}|`);
}

/** Outcome rows of the minutes `[fromMs, toMs)` ('|' sorts after the digits, and newer minutes count lower). */
export function outcomeRange(fromMs: number, toMs: number): RowRange {
  return { from: `o|${minuteCountdown(toMs - 1)}|`, to: `o|${minuteCountdown(fromMs)}}` };
}

/** Listing entries of the jobs submitted in `[fromMs, toMs)`. */
export function listingRangeOf(fromMs: number, toMs: number): RowRange {
  return { from: countdownKey(toMs - 1), to: countdownKey(fromMs - 1) };
}

/** When the job of an index row key (any kind but outcomes) was submitted, in epoch ms. */
export function submittedMsOf(rowKey: string): number {
  return maxTimestampMs - Number(suffixOf(rowKey).slice(0, 13));
}

/** Every row of a range kind that `rowKey` may continue from: a listing cursor must stay in its range. */
export function inRange(range: RowRange, rowKey: string): boolean {
  return rowKey === '' || (rowKey >= range.from && rowKey < range.to);
}

export interface IndexEntity {
  partitionKey: string;
  rowKey: string;
  jobId: string;
  jobType: string;
  status: string;
  /**
   * The record's `updatedAt` when the row was written (absent on rows older than it): a row no newer than the
   * reconciler's staleness is no create still under way.
   */
  updatedAt?: Date;
  /** Present (true) on a DeadLettered job whose message was discarded (`isDiscardedDeadLetter`), for the stats. */
  discarded?: boolean;
}

/** One attempt's outcome, for the per-minute stats. */
interface OutcomeEntity {
  partitionKey: string;
  rowKey: string;
  status: string;
  jobType: string;
  /** The minute, as `minuteKey` writes it. */
  minute: string;
  completedAt: Date;
}

export function indexPartition(date: Date): string {
  return `${indexPartitionPrefix}${date.toISOString().slice(0, 10)}`;
}

/** The day after or before `partition` (an index partition). */
export function nextDay(partition: string, days: number): string {
  const day = new Date(dayStartMsOf(partition));
  day.setUTCDate(day.getUTCDate() + days);
  return indexPartition(day);
}

/** The first millisecond of an index partition's day. */
export function dayStartMsOf(partition: string): number {
  return Date.parse(`${partition.slice(indexPartitionPrefix.length)}T00:00:00Z`);
}

export function isIndexPartition(partition: string): boolean {
  const day = partition.slice(indexPartitionPrefix.length);
  const date = new Date(`${day}T00:00:00Z`);
  return (
    /^index-\d{4}-\d{2}-\d{2}$/.test(partition) &&
    !Number.isNaN(date.getTime()) &&
    date.toISOString().slice(0, 10) === day
  );
}

/** Every index partition sorts in this range ('.' follows '-'). */
export const indexPartitions = { from: indexPartitionPrefix, to: 'index.' };

/** The first row key of entries submitted before `since`: just past its countdown. */
export function listingKeyBefore(since: Date): string {
  return countdownKey(since.getTime() - 1);
}

function countdownKey(ms: number): string {
  return String(maxTimestampMs - ms).padStart(13, '0');
}

/** The record's index partition, and the key suffix all its rows there share. */
export function indexAddress(record: Pick<JobRecord, 'jobId' | 'submittedAt'>): {
  partitionKey: string;
  suffix: string;
} {
  const submitted = new Date(record.submittedAt);
  return {
    partitionKey: indexPartition(submitted),
    suffix: `${countdownKey(submitted.getTime())}-${record.jobId}`,
  };
}

/** The listing entry's row key is the suffix alone; every other row of the job ends with it. */
export function suffixOf(rowKey: string): string {
  return rowKey.slice(rowKey.lastIndexOf('|') + 1);
}

/**
 * The rows that index `record` as it now stands, each written whole so that any write repairs what an earlier one
 * left missing or stale; and the outcome the stats count its last ended attempt by (in the index partition when the
 * attempt ended on the day the job was submitted, otherwise in its minute's own partition).
 */
export function indexWrites(record: JobRecord): Array<{ partitionKey: string; rows: RowWrite[] }> {
  const { partitionKey, suffix } = indexAddress(record);
  const entry = {
    jobId: record.jobId,
    jobType: record.jobType,
    status: record.status,
    updatedAt: new Date(record.updatedAt),
    ...(isDiscardedDeadLetter(record) && { discarded: true }),
  };
  const upsert = (rowKey: string, properties: object): RowWrite => ({
    kind: 'upsert',
    entity: { partitionKey, rowKey, ...properties },
  });
  const remove = (rowKey: string): RowWrite => ({ kind: 'delete', partitionKey, rowKey });
  const rows: RowWrite[] = [
    upsert(suffix, entry),
    upsert(`${jobTypeRange(record.jobType).from}${suffix}`, entry),
    versionBump(partitionKey, 'j', minuteCountdown(Date.parse(record.submittedAt))),
  ];
  if (isTerminalJobStatus(record.status)) {
    rows.push(remove(`${unfinishedRange.from}${suffix}`));
    rows.push(upsert(`${statusRange(record.status).from}${suffix}`, entry));
  } else {
    rows.push(upsert(`${unfinishedRange.from}${suffix}`, entry));
    // Replayed out of DeadLettered: that status's row goes.
    if (record.deadLetterActions.length > 0)
      rows.push(remove(`${statusRange('DeadLettered').from}${suffix}`));
  }
  const writes = [{ partitionKey, rows }];
  const outcome = countableOutcome(record);
  if (outcome) {
    const completedAt = new Date(outcome.completedAtMs);
    const entity: Omit<OutcomeEntity, 'partitionKey' | 'rowKey'> = {
      status: outcome.status,
      jobType: outcome.jobType,
      minute: outcome.minute,
      completedAt,
    };
    if (indexPartition(completedAt) === partitionKey) {
      rows.push(upsert(outcomeRowKey(completedAt, outcome.key), entity));
      rows.push(versionBump(partitionKey, 'o', minuteCountdown(completedAt)));
    } else {
      const outcomes = outcomePartition(completedAt);
      writes.push({
        partitionKey: outcomes,
        rows: [{ kind: 'upsert', entity: { partitionKey: outcomes, rowKey: outcome.key, ...entity } }],
      });
    }
  }
  return writes;
}

/** Where a job's index rows are, and what its listing entry says: enough to remove them. */
export interface IndexedJob {
  readonly partitionKey: string;
  readonly suffix: string;
  readonly jobId: string;
  readonly jobType: string;
  readonly status: string;
}

export function indexedJobOf(record: JobRecord): IndexedJob {
  return { ...indexAddress(record), jobId: record.jobId, jobType: record.jobType, status: record.status };
}

/**
 * The rows of a removed job, or of an entry a create left that lost to another (its countdown is not the
 * record's), with the outcome rows of `outcomes`. A row that is not there is no failure.
 */
export function indexRemovals(
  job: IndexedJob,
  outcomes: JobRecord['outcomes'] = [],
): Array<{ partitionKey: string; rows: RowWrite[] }> {
  const { partitionKey, suffix } = job;
  const remove = (rowKey: string, partition = partitionKey): RowWrite => ({
    kind: 'delete',
    partitionKey: partition,
    rowKey,
  });
  const rows = [
    remove(suffix),
    versionBump(partitionKey, 'j', minuteCountdown(submittedMsOf(suffix))),
    remove(`${jobTypeRange(job.jobType).from}${suffix}`),
    remove(
      isTerminalJobStatus(job.status)
        ? `${statusRange(job.status as JobStatus).from}${suffix}`
        : `${unfinishedRange.from}${suffix}`,
    ),
  ];
  const elsewhere: Array<{ partitionKey: string; rows: RowWrite[] }> = [];
  for (const outcome of outcomes) {
    const completedAt = new Date(outcome.completedAt);
    const key = outcomeKey(job.jobId, outcome.completedAt, outcome.attempt);
    if (indexPartition(completedAt) === partitionKey) {
      rows.push(remove(outcomeRowKey(completedAt, key)));
      rows.push(versionBump(partitionKey, 'o', minuteCountdown(completedAt)));
    } else
      elsewhere.push({
        partitionKey: outcomePartition(completedAt),
        rows: [remove(key, outcomePartition(completedAt))],
      });
  }
  return [{ partitionKey, rows }, ...elsewhere];
}

export function outcomePartition(at: Date): string {
  return `${outcomePartitionPrefix}${minuteCountdown(at)}`;
}

/** An outcome row's key in the index partition of its day. */
export function outcomeRowKey(completedAt: Date, key: string): string {
  return `o|${minuteCountdown(completedAt)}|${key}`;
}
