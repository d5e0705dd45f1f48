import { z } from 'zod';
import type { JobRecord } from '../jobs/model/jobRecord';
import type { JobStatsQuery, JobStatsSnapshot } from '../jobs/model/jobStats';
import {
  addJob,
  addOutcome,
  countedOutcomeStatus,
  isDiscardedDeadLetter,
  minuteKey,
} from '../jobs/model/jobStats';
import type {
  CreateJobResult,
  JobListPage,
  JobListQuery,
  JobStore,
  StoredJob,
  JobAgeQuery,
  NewJob,
} from '../jobs/ports/jobStore';
import { idleSinceMs, isTerminalJobStatus } from '../jobs/model/jobRecord';
import { decodeListingToken, encodeListingToken } from './listingToken';

/**
 * Embedded-mode job store. Records are replaced, never mutated in place, so handing out the stored object is safe
 * as long as callers treat records as values (the dispatcher and submission do). Keeps at most `maxFinished`
 * finished jobs, the longest finished first out, so a long-running process does not grow without end.
 */
export class InMemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, StoredJob>();
  /** Finished jobs' ids, in the order they finished (a Set keeps insertion order). */
  private readonly finished = new Set<string>();
  /**
   * Where eviction goes on from: a Set iterator is live, and every id before it has been evicted, so its next id is
   * the oldest one left. A fresh iterator per eviction would step over every deleted entry the Set has not yet
   * compacted away: about 10 µs a job once the store is full (`npm run bench:profile`).
   */
  private evictionCursor: Iterator<string> = this.finished.values();
  private version = 0;

  constructor(private readonly maxFinished = Infinity) {}

  async create(record: JobRecord, body?: string): Promise<CreateJobResult> {
    const existing = this.jobs.get(record.jobId);
    if (!existing) return { created: true, stored: this.store(record, body) };
    return sameRecord(existing.record, record)
      ? { created: true, stored: existing }
      : { created: false, existing };
  }

  // One synchronous step: nothing else runs between the jobs, so the commit is all or nothing.
  async createAll(jobs: readonly NewJob[]): Promise<CreateJobResult[]> {
    return jobs.map(({ record, body }) => {
      const existing = this.jobs.get(record.jobId);
      return existing && !sameRecord(existing.record, record)
        ? { created: false, existing }
        : { created: true, stored: existing ?? this.store(record, body) };
    });
  }

  async get(jobId: string): Promise<StoredJob | undefined> {
    return this.jobs.get(jobId);
  }

  async replace(record: JobRecord, etag: string): Promise<string | undefined> {
    const current = this.jobs.get(record.jobId);
    if (!current) return undefined;
    if (current.etag !== etag) return sameRecord(current.record, record) ? current.etag : undefined;
    return this.store(record, current.body).etag;
  }

  async remove(jobId: string, etag: string): Promise<boolean> {
    const current = this.jobs.get(jobId);
    if (current && current.etag !== etag) return false;
    this.jobs.delete(jobId);
    this.finished.delete(jobId);
    return true;
  }

  async list({ status, jobType, limit, continuationToken }: JobListQuery): Promise<JobListPage> {
    const after =
      continuationToken === undefined ? undefined : decodeListingToken(continuationToken, listKeySchema);
    const matching = [...this.jobs.values()]
      .map(({ record }) => ({ record, key: listKey(record) }))
      .filter(
        ({ record, key }) =>
          (!status || record.status === status) &&
          (!jobType || record.jobType === jobType) &&
          (!after || compareListKeys(key, after) > 0),
      )
      .sort((a, b) => compareListKeys(a.key, b.key));
    const page = matching.slice(0, limit);
    const last = page.at(-1);
    return {
      jobs: page.map(({ record }) => record),
      continuationToken: last && matching.length > page.length ? encodeCursor(last.key) : undefined,
    };
  }

  async findUnfinished({ updatedBefore, limit }: JobAgeQuery): Promise<StoredJob[]> {
    const found: StoredJob[] = [];
    for (const stored of this.jobs.values()) {
      if (found.length >= limit) break;
      const idleSince = idleSinceMs(stored.record);
      if (idleSince !== undefined && idleSince < updatedBefore.getTime()) found.push(stored);
    }
    return found;
  }

  async findFinished({ updatedBefore, limit }: JobAgeQuery): Promise<StoredJob[]> {
    const found: StoredJob[] = [];
    for (const jobId of this.finished) {
      const stored = this.jobs.get(jobId);
      if (found.length >= limit) break;
      if (stored && Date.parse(stored.record.updatedAt) < updatedBefore.getTime()) found.push(stored);
    }
    return found;
  }

  async stats({ submittedSince, outcomesSince, maxEntries }: JobStatsQuery): Promise<JobStatsSnapshot> {
    const submitted = [...this.jobs.values()]
      .map(({ record }) => ({ record, key: listKey(record) }))
      .filter(({ key }) => key.submittedMs >= submittedSince.getTime())
      .sort((a, b) => compareListKeys(a.key, b.key));
    const byJobType: JobStatsSnapshot['byJobType'] = {};
    let deadLetteredDiscarded = 0;
    for (const { record } of submitted.slice(0, maxEntries)) {
      addJob(byJobType, record.jobType, record.status);
      if (isDiscardedDeadLetter(record)) deadLetteredDiscarded += 1;
    }
    // Read from the records' outcomes when asked, not kept up on every write: the write path is the hot one.
    const ended = [...this.jobs.values()]
      .flatMap(({ record }) => record.outcomes.map((outcome) => ({ record, outcome })))
      .map(({ record, outcome }) => ({
        completedAtMs: Date.parse(outcome.completedAt),
        status: countedOutcomeStatus(record, outcome),
      }))
      .filter(({ completedAtMs }) => completedAtMs >= outcomesSince.getTime())
      .sort((a, b) => b.completedAtMs - a.completedAtMs);
    const outcomesByMinute: JobStatsSnapshot['outcomesByMinute'] = {};
    for (const { completedAtMs, status } of ended.slice(0, maxEntries))
      addOutcome(outcomesByMinute, minuteKey(completedAtMs), status);
    return {
      byJobType,
      jobsCounted: Math.min(submitted.length, maxEntries),
      deadLetteredDiscarded,
      jobsTruncated: submitted.length > maxEntries,
      outcomesByMinute,
      outcomesTruncated: ended.length > maxEntries,
    };
  }

  private store(record: JobRecord, body: string | undefined): StoredJob {
    this.version += 1;
    const etag = String(this.version);
    // No spread of a throwaway object: this runs for every write of every job.
    const stored: StoredJob = body === undefined ? { record, etag } : { record, etag, body };
    this.jobs.set(record.jobId, stored);
    this.finished.delete(record.jobId);
    if (isTerminalJobStatus(record.status)) this.keepFinished(record.jobId);
    return stored;
  }

  private keepFinished(jobId: string): void {
    this.finished.add(jobId);
    while (this.finished.size > this.maxFinished) {
      let oldest = this.evictionCursor.next();
      // A finished iterator stays finished, even once the Set grows again.
      if (oldest.done) oldest = (this.evictionCursor = this.finished.values()).next();
      if (oldest.done) return;
      this.finished.delete(oldest.value);
      this.jobs.delete(oldest.value);
    }
  }
}

// The same write made again (a retry holds on to the record it writes), not merely equal content: two writers
// can make equal records (one idempotency key submitted twice in one millisecond), and each must see the other's.
function sameRecord(stored: JobRecord, written: JobRecord): boolean {
  return stored === written;
}

// Every field bounded: a token made by hand names at worst another position in the listing.
const listKeySchema = z.strictObject({
  submittedMs: z.int().min(0).max(8_640_000_000_000_000),
  jobId: z.string().max(64),
});
type ListKey = z.output<typeof listKeySchema>;

// The table store's order: newest submission first (to the millisecond), then by jobId.
function listKey(record: JobRecord): ListKey {
  return { submittedMs: Date.parse(record.submittedAt), jobId: record.jobId };
}

function compareListKeys(a: ListKey, b: ListKey): number {
  return b.submittedMs - a.submittedMs || (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0);
}

// The last job listed, not an offset: jobs created or removed between pages shift nothing.
function encodeCursor(key: ListKey): string {
  return encodeListingToken(key);
}
