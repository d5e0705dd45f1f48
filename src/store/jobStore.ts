import type { JobRecord, JobStatus } from '../jobs/jobRecord';

/** A record as stored, with the version (ETag) a conditional write must name. */
export interface StoredJob {
  readonly record: JobRecord;
  readonly etag: string;
}

export type CreateJobResult = { created: true; stored: StoredJob } | { created: false; existing: StoredJob };

export interface JobListQuery {
  status?: JobStatus;
  jobType?: string;
  /** 1 to 100. */
  limit: number;
  continuationToken?: string;
}

export interface JobListPage {
  /** Newest submission first. */
  readonly jobs: JobRecord[];
  /** Present when more jobs match: pass it back for the next page. */
  readonly continuationToken: string | undefined;
}

/**
 * Durable job records. Writes after creation are conditional on the record's ETag, so two workers can never both
 * claim one job. Adapters throw `InfrastructureError('StoreUnavailable')` when the store cannot be reached, never a
 * raw driver error, so callers can answer 503 or abandon without guessing.
 */
export interface JobStore {
  /**
   * Inserts the record unless a job with its jobId already exists; then returns that job instead. Atomic: of two
   * concurrent creates of one jobId, one wins. (Submission derives the jobId from an idempotency key.)
   */
  create(record: JobRecord): Promise<CreateJobResult>;
  get(jobId: string): Promise<StoredJob | undefined>;
  /** Replaces the record if it still has `etag`: the new ETag, or `undefined` when another writer changed it first. */
  replace(record: JobRecord, etag: string): Promise<string | undefined>;
  /** Removes a job and releases its idempotency key (used when its message could not be sent). */
  remove(jobId: string): Promise<void>;
  list(query: JobListQuery): Promise<JobListPage>;
}
