import type { JobRecord } from '../jobs/jobRecord';

export type CreateJobResult = { created: true; record: JobRecord } | { created: false; existing: JobRecord };

/**
 * Durable job records. Adapters throw `InfrastructureError('StoreUnavailable')` when the store cannot be reached,
 * never a raw driver error, so callers can answer 503 or abandon without guessing.
 */
export interface JobStore {
  /**
   * Inserts the record unless a job with the same jobId, or the same non-empty idempotency key, already exists;
   * then returns that job instead. Atomic: two concurrent creates with one key yield one job.
   */
  create(record: JobRecord): Promise<CreateJobResult>;
  get(jobId: string): Promise<JobRecord | undefined>;
  /** Replaces the record of an existing job. */
  update(record: JobRecord): Promise<void>;
  /** Removes a job and releases its idempotency key (used when its message could not be sent). */
  remove(jobId: string): Promise<void>;
}
