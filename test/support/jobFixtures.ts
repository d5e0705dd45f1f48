import { randomUUID } from 'node:crypto';
import type { JobMessage } from '../../src/jobs/jobMessage';
import { newJobMessage } from '../../src/jobs/jobMessage';

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
