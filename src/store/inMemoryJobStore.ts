import type { JobRecord } from '../jobs/jobRecord';
import type { CreateJobResult, JobListPage, JobListQuery, JobStore, StoredJob } from './jobStore';

/**
 * Embedded-mode job store. Records are replaced, never mutated in place, so handing out the stored object is safe
 * as long as callers treat records as values (the dispatcher and submission do).
 */
export class InMemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, StoredJob>();
  private version = 0;

  async create(record: JobRecord): Promise<CreateJobResult> {
    const existing = this.jobs.get(record.jobId);
    if (existing) return { created: false, existing };
    return { created: true, stored: this.store(record) };
  }

  async get(jobId: string): Promise<StoredJob | undefined> {
    return this.jobs.get(jobId);
  }

  async replace(record: JobRecord, etag: string): Promise<string | undefined> {
    if (this.jobs.get(record.jobId)?.etag !== etag) return undefined;
    return this.store(record).etag;
  }

  async remove(jobId: string): Promise<void> {
    this.jobs.delete(jobId);
  }

  async list({ status, jobType, limit, continuationToken }: JobListQuery): Promise<JobListPage> {
    const offset = continuationToken
      ? Number(Buffer.from(continuationToken, 'base64url').toString()) || 0
      : 0;
    const matching = [...this.jobs.values()]
      .map((stored) => stored.record)
      .filter((record) => (!status || record.status === status) && (!jobType || record.jobType === jobType))
      .sort((a, b) => b.submittedAt.localeCompare(a.submittedAt) || a.jobId.localeCompare(b.jobId));
    const jobs = matching.slice(offset, offset + limit);
    const next = offset + jobs.length;
    return {
      jobs,
      continuationToken: next < matching.length ? Buffer.from(String(next)).toString('base64url') : undefined,
    };
  }

  private store(record: JobRecord): StoredJob {
    this.version += 1;
    const stored = { record, etag: String(this.version) };
    this.jobs.set(record.jobId, stored);
    return stored;
  }
}
