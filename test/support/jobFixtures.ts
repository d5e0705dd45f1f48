import { randomUUID } from 'node:crypto';
import type { JobMessage } from '../../src/jobs/model/jobMessage';
import { newJobMessage } from '../../src/jobs/model/jobMessage';
import type { JobRecord } from '../../src/jobs/model/jobRecord';
import { newJobRecord } from '../../src/jobs/model/jobRecord';
import type { JobStore, StoredJob } from '../../src/jobs/ports/jobStore';
import { waitFor } from './waitFor';

/** A body exactly as the platform's C# JobSubmissionService serializes it (System.Text.Json, camelCase). */
export function cSharpProducerBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jobId: randomUUID(),
    jobType: 'diagnostics.simulate',
    subjectId: '',
    correlationId: '',
    idempotencyKey: '',
    attempt: 1,
    maxAttempts: 3,
    payload: {},
    createdAt: '2025-12-12T00:00:00+00:00',
    isAtMaxAttempts: false,
    ...overrides,
  };
}

export function jobMessage(overrides: Partial<JobMessage> = {}): JobMessage {
  return newJobMessage({ jobType: 'diagnostics.simulate', payload: {}, ...overrides });
}

/** The record of a new job submitted at `submittedAt`. */
export function jobRecordAt(submittedAt: string, overrides: Partial<JobMessage> = {}): JobRecord {
  return newJobRecord(jobMessage({ createdAt: submittedAt, ...overrides }), new Date(submittedAt));
}

/** Creates `record` in `store`, which must not hold the job yet; the stored record and its version. */
export async function createNewRecord(store: JobStore, record: JobRecord): Promise<StoredJob> {
  const created = await store.create(record);
  if (!created.created) throw new Error('expected a new job');
  return created.stored;
}

/** Polls `store` until it holds a record of the job that `accept` takes; that record. */
export function storedRecordWhen(
  store: JobStore,
  jobId: string,
  accept: (record: JobRecord) => boolean,
): Promise<JobRecord> {
  return waitFor(
    async () => {
      const record = (await store.get(jobId))?.record;
      return record && accept(record) ? record : undefined;
    },
    { description: `job ${jobId} in the store` },
  );
}
