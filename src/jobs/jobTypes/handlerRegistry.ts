import { z } from 'zod';
import type { DeadLetterReason } from '../model/deadLetterReason';
import { JobsError } from '../errors';
import { fieldErrors } from '../model/fieldErrors';
import type { JobMessage } from '../model/jobMessage';
import type { JobTypePolicy, JobTypePolicyDefaults } from './jobTypePolicy';
import { builtInPolicyDefaults, effectivePolicy, jobTypePolicyOverridesSchema } from './jobTypePolicy';
import type { JobHandler } from './jobHandler';

/** A job's handler, its type's policy and its payload as the handler's schema reads it, or why the job cannot run. */
export type HandlerMatch =
  | { ok: true; handler: JobHandler; policy: JobTypePolicy; payload: unknown }
  | { ok: false; reason: Extract<DeadLetterReason, 'NoHandler' | 'InvalidPayload'>; description: string };

interface Registration {
  readonly handler: JobHandler;
  readonly policy: JobTypePolicy;
}

/**
 * jobType → handler and policy. Built once at start-up; a jobType registered twice, or a policy out of range, stops
 * the app from starting. A payload object schema is made strict here, unless the handler allows extra fields: a
 * misspelt field (`durationMS`) is an error at submission and at dispatch, not a job that silently runs with defaults.
 */
export class HandlerRegistry {
  private readonly registrations = new Map<string, Registration>();

  constructor(handlers: Iterable<JobHandler>, defaults: JobTypePolicyDefaults = builtInPolicyDefaults) {
    for (const handler of handlers) {
      if (this.registrations.has(handler.jobType)) {
        throw new JobsError(
          'DuplicateJobType',
          `Two handlers are registered for job type '${handler.jobType}'.`,
        );
      }
      const overrides = jobTypePolicyOverridesSchema.safeParse(handler.policy);
      if (!overrides.success) {
        const problems = fieldErrors(overrides.error.issues, 'policy').map(
          ({ field, message }) => `${field}: ${message}`,
        );
        throw new JobsError('InvalidConfiguration', `Job type '${handler.jobType}': ${problems.join('; ')}`);
      }
      this.registrations.set(handler.jobType, {
        handler: {
          jobType: handler.jobType,
          payloadSchema: strictPayloadSchema(handler),
          handle: (payload, context) => handler.handle(payload, context),
        },
        policy: effectivePolicy(overrides.data, defaults),
      });
    }
  }

  get(jobType: string): JobHandler | undefined {
    return this.registrations.get(jobType)?.handler;
  }

  /** The type's effective policy: its handler's own values over the app's settings. */
  policyOf(jobType: string): JobTypePolicy | undefined {
    return this.registrations.get(jobType)?.policy;
  }

  jobTypes(): string[] {
    return [...this.registrations.keys()].sort();
  }

  /** The dispatcher's verdict on a job before it runs: the dead-letter listing repeats it for record-less messages. */
  match(job: Pick<JobMessage, 'jobType' | 'payload'>): HandlerMatch {
    const registration = this.registrations.get(job.jobType);
    if (!registration) {
      const known = this.jobTypes().join(', ') || 'none';
      return {
        ok: false,
        reason: 'NoHandler',
        description: `No handler for job type '${job.jobType}' (known: ${known}).`,
      };
    }
    const { handler, policy } = registration;
    const payload = handler.payloadSchema.safeParse(job.payload);
    if (payload.success) return { ok: true, handler, policy, payload: payload.data };
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
