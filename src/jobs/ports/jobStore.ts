import type { JobRecord, JobStatus } from '../model/jobRecord';
import type { JobStatsQuery, JobStatsSnapshot } from '../model/jobStats';

/** A record as stored, with the version (ETag) a conditional write must name. */
export interface StoredJob {
  readonly record: JobRecord;
  readonly etag: string;
  /**
   * The job's message body (JSON text) as submitted, so a sweep can send it again; absent for records created from
   * a message another producer sent, or stored before bodies were kept.
   */
  readonly body?: string;
}

export type CreateJobResult = { created: true; stored: StoredJob } | { created: false; existing: StoredJob };

/** A job to create: its record and its message body (JSON text), kept so the job can be sent again. */
export interface NewJob {
  readonly record: JobRecord;
  readonly body: string;
}

export interface JobListQuery {
  status?: JobStatus;
  jobType?: string;
  /** 1 to 100. */
  limit: number;
  /**
   * One that a listing of this store returned, unchanged; any other is refused with
   * `InvalidContinuationTokenError`, never read as "from the start".
   */
  continuationToken?: string;
}

export interface JobListPage {
  /** Newest submission first. */
  readonly jobs: JobRecord[];
  /**
   * Present when more jobs may match: pass it back for the next page. A page can be short, even empty, and still
   * carry one (the store bounds the work of one call); without one the listing is complete.
   */
  readonly continuationToken: string | undefined;
}

/** Jobs last changed before a time, at most so many: the reconciler's sweep, and retention. */
export interface JobAgeQuery {
  /** Only jobs last changed before this (for `findUnfinished`, idle since before it). */
  updatedBefore: Date;
  /** Most records returned. */
  limit: number;
}

/**
 * Durable job records. Writes after creation are conditional on the record's ETag, so two workers can never both
 * claim one job. Adapters throw `InfrastructureError('StoreUnavailable')` when the store cannot be reached, never a
 * raw driver error, so callers can answer 503 or abandon without guessing.
 *
 * A conditional write whose answer was lost is retried (by the driver, or by the caller with the same record
 * object) and comes back as a conflict although it was applied. Adapters recognise their own write: the same record
 * object written again reports success, not a conflict. Equal content alone is not enough: two writers can make
 * equal records (one idempotency key submitted twice in one millisecond), and each must see the other's.
 */
export interface JobStore {
  /**
   * Inserts the record, with the job's message `body`, unless a job with its jobId already exists. Atomic: of two
   * concurrent creates of one jobId, one wins. (Submission derives the jobId from an idempotency key.)
   * @returns `created: true` with the stored job, also when the existing record is this `record` (a create whose
   *   answer was lost); otherwise `created: false` with the job as it stands.
   */
  create(record: JobRecord, body?: string): Promise<CreateJobResult>;
  /**
   * Creates every job whose jobId does not exist yet, all or none, in one atomic commit: a submission's promise. When
   * it returns, each job is created or was there already (`created: false`, a repeated idempotency key), and every
   * created one is durable; when it throws `StoreUnavailable`, nothing was committed, or the store could not learn
   * whether its commit applied (the error says so: a repeat with the same keys finds the jobs if it did). The
   * jobIds are distinct. A created job's `etag` is empty when its commit stands but its record could not be written
   * yet: `get` finds it all the same (and writes it).
   */
  createAll(jobs: readonly NewJob[]): Promise<CreateJobResult[]>;
  /** The job with its record, ETag and body; `undefined` when there is none. */
  get(jobId: string): Promise<StoredJob | undefined>;
  /**
   * Replaces the record if it still has `etag`, keeping the stored body.
   * @returns the new ETag, also when the stored record is already this `record` (our own write, applied, whose
   *   answer was lost); `undefined` when another writer changed or removed it first.
   */
  replace(record: JobRecord, etag: string): Promise<string | undefined>;
  /**
   * Removes a finished job past retention, releasing its idempotency key, only if it still has `etag`: a job someone
   * has changed since is never removed.
   * @returns `true` when removed or already absent; `false` when someone changed it.
   */
  remove(jobId: string, etag: string): Promise<boolean>;
  /** Jobs newest submission first, a page at a time. */
  list(query: JobListQuery): Promise<JobListPage>;
  /**
   * Up to `limit` unfinished jobs, bodies included, idle since before `updatedBefore` (`idleSinceMs`: last written
   * before it, and waiting on no later time of their own, a retry's or a live claim's), in no particular order: the
   * ones a sweep should act on. Jobs that wait are passed over, not counted, so that no number of retries waiting
   * out their backoff hides a stuck job from the sweep.
   */
  findUnfinished(query: JobAgeQuery): Promise<StoredJob[]>;
  /** Finished jobs (Completed, DeadLettered, Cancelled) last changed before `updatedBefore`, for retention. */
  findFinished(query: JobAgeQuery): Promise<StoredJob[]>;
  /**
   * Counts for the dashboard, without reading every record: jobs submitted since `submittedSince` by job type and
   * status (from the listing index, so a status may lag as a listing's may), and attempt outcomes since
   * `outcomesSince` per minute (each attempt once, recorded when a write ends it). At most `maxEntries` of each
   * are read, newest first; the snapshot says when there were more.
   */
  stats(query: JobStatsQuery): Promise<JobStatsSnapshot>;
}
