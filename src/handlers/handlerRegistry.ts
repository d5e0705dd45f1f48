import { z } from 'zod';
import type { DeadLetterReason } from '../jobs/deadLetterReason';
import { JobsError } from '../jobs/errors';
import { fieldErrors } from '../jobs/fieldErrors';
import type { JobMessage } from '../jobs/jobMessage';
import type { JobHandler } from './jobHandler';

/** A job's handler and its payload as the handler's schema reads it, or why the job cannot run. */
export type HandlerMatch =
  | { ok: true; handler: JobHandler; payload: unknown }
  | { ok: false; reason: Extract<DeadLetterReason, 'NoHandler' | 'InvalidPayload'>; description: string };

/**
 * jobType → handler. Built once at start-up; a jobType registered twice stops the app from starting. A payload
 * object schema is made strict here, unless the handler allows extra fields: a misspelt field (`durationMS`) is an
 * error at submission and at dispatch, not a job that silently runs with defaults.
 */
export class HandlerRegistry {
  private readonly handlers = new Map<string, JobHandler>();

  constructor(handlers: Iterable<JobHandler>) {
    for (const handler of handlers) {
      if (this.handlers.has(handler.jobType)) {
        throw new JobsError(
          'DuplicateJobType',
          `Two handlers are registered for job type '${handler.jobType}'.`,
        );
      }
      this.handlers.set(handler.jobType, {
        jobType: handler.jobType,
        payloadSchema: strictPayloadSchema(handler),
        handle: (payload, context) => handler.handle(payload, context),
      });
    }
  }

  get(jobType: string): JobHandler | undefined {
    return this.handlers.get(jobType);
  }

  jobTypes(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** The dispatcher's verdict on a job before it runs: the dead-letter listing repeats it for record-less messages. */
  match(job: Pick<JobMessage, 'jobType' | 'payload'>): HandlerMatch {
    const handler = this.handlers.get(job.jobType);
    if (!handler) {
      const known = this.jobTypes().join(', ') || 'none';
      return {
        ok: false,
        reason: 'NoHandler',
        description: `No handler for job type '${job.jobType}' (known: ${known}).`,
      };
    }
    const payload = handler.payloadSchema.safeParse(job.payload);
    if (payload.success) return { ok: true, handler, payload: payload.data };
    const problems = fieldErrors(payload.error.issues, 'payload').map(
      ({ field, message }) => `${field.replaceAll('/', '.')}: ${message.replace(/\.$/, '')}`,
    );
    return {
      ok: false,
      reason: 'InvalidPayload',
      description: `The payload does not match '${job.jobType}': ${problems.join('; ')}.`,
    };
  }
}

function strictPayloadSchema({ payloadSchema, allowExtraPayloadFields }: JobHandler): z.ZodType {
  return payloadSchema instanceof z.ZodObject && !allowExtraPayloadFields
    ? payloadSchema.strict()
    : payloadSchema;
}
