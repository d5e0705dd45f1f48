import type { z } from 'zod';
import type { JobMessage } from '../model/jobMessage';
import type { JobTypePolicyOverrides } from './jobTypePolicy';
import type { Logger } from '../support/logger';

/** What a handler gets besides its payload. */
export interface JobHandlerContext {
  readonly job: JobMessage;
  /** 1-based number of this run of the job in its attempt cycle, counting retries and runs cut short. */
  readonly attempt: number;
  /** The attempt cycle: 1 for the submitted job, one more for each replay from the dead-letter queue. */
  readonly cycle: number;
  /** Aborted when the handler times out or the app shuts down: stop work and throw. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /**
   * Reports how far the run has got: `percent` from 0 to 100 and an optional note, shown on the job's record. Cheap
   * to call often: at most one write a second reaches the store, and the last report is always kept.
   */
  progress(percent: number, note?: string): void;
}

/**
 * The code that runs one job type. Throw `PermanentJobError` for a job that can never succeed (it is dead-lettered
 * as `Poisoned`); any other error is transient and the job is retried with backoff. Handlers must be idempotent:
 * a job can run again after a crash between the handler's success and its completion being recorded.
 */
export interface JobHandler<TPayload = unknown> {
  readonly jobType: string;
  readonly payloadSchema: z.ZodType<TPayload>;
  /**
   * Accept payload fields the schema does not name. By default an object schema is strict: an unknown field is a
   * 400 at submission and an `InvalidPayload` dead-letter at dispatch. Applies to the payload's top level; use
   * `z.strictObject` for nested objects.
   */
  readonly allowExtraPayloadFields?: boolean;
  /**
   * The type's own attempts, handler timeout and backoff; what it leaves out comes from the app's settings
   * (`Jobs__DefaultMaxAttempts`, `Jobs__HandlerTimeoutMs`, `Jobs__Retry__*`). A `maxAttempts` here is the default and
   * the bound: a submission may ask for fewer attempts, not more.
   */
  readonly policy?: JobTypePolicyOverrides;
  handle(payload: TPayload, context: JobHandlerContext): Promise<void>;
}

/** Ties a handler's payload type to its schema, so `handle` receives the schema's output type. */
export function defineJobHandler<TPayload>(handler: JobHandler<TPayload>): JobHandler<TPayload> {
  return handler;
}
