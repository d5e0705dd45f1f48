import type { JobRecord } from '../jobs/jobRecord';
import type { CreateJobResult, JobStore } from './jobStore';

/**
 * Embedded-mode job store. Records are replaced, never mutated in place, so handing out the stored object is safe
 * as long as callers treat records as values (the dispatcher and submission do).
 */
export class InMemoryJobStore implements JobStore {
  private readonly records = new Map<string, JobRecord>();
  private readonly jobIdByIdempotencyKey = new Map<string, string>();

  async create(record: JobRecord): Promise<CreateJobResult> {
    const sameId = this.records.get(record.jobId);
    if (sameId) return { created: false, existing: sameId };
    if (record.idempotencyKey) {
      const existingId = this.jobIdByIdempotencyKey.get(record.idempotencyKey);
      const existing = existingId === undefined ? undefined : this.records.get(existingId);
      if (existing) return { created: false, existing };
      this.jobIdByIdempotencyKey.set(record.idempotencyKey, record.jobId);
    }
    this.records.set(record.jobId, record);
    return { created: true, record };
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    return this.records.get(jobId);
  }

  async update(record: JobRecord): Promise<void> {
    this.records.set(record.jobId, record);
  }

  async remove(jobId: string): Promise<void> {
    const record = this.records.get(jobId);
    if (!record) return;
    this.records.delete(jobId);
    if (record.idempotencyKey && this.jobIdByIdempotencyKey.get(record.idempotencyKey) === jobId) {
      this.jobIdByIdempotencyKey.delete(record.idempotencyKey);
    }
  }
}
