/** Every error code the app raises on purpose. */
export type JobsErrorCode =
  | 'InvalidConfiguration'
  | 'DuplicateJobType'
  | 'ValidationFailed'
  | 'PayloadTooLarge'
  | 'QueueUnavailable'
  | 'StoreUnavailable'
  | 'PermanentJobFailure'
  | 'TransientJobFailure'
  | 'RetryLater'
  | 'Cancelled'
  | 'HandlerTimedOut'
  | 'ShuttingDown'
  | 'MessageLockLost'
  | 'NotFound'
  | 'Conflict';

/** Base of every error the app raises on purpose; `code` says what went wrong. */
export class JobsError extends Error {
  readonly code: JobsErrorCode;

  constructor(code: JobsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One field that failed validation, with a JSON Pointer to it (`/payload/durationMs`). */
export interface FieldError {
  field: string;
  message: string;
}

export class ValidationError extends JobsError {
  readonly errors: readonly FieldError[];

  constructor(message: string, errors: readonly FieldError[]) {
    super('ValidationFailed', message);
    this.errors = errors;
  }
}

/**
 * A listing's continuation token that the store did not issue (made up, cut short, or from another store): the
 * caller starts the listing again without one. Raised by the store, which alone can read its tokens.
 */
export class InvalidContinuationTokenError extends ValidationError {
  constructor() {
    super('The continuation token was not issued by this service; list again without one.', [
      {
        field: 'continuationToken',
        message:
          'Not a continuation token this service issued (pass back the one a listing gave, unchanged).',
      },
    ]);
  }
}

export class PayloadTooLargeError extends JobsError {
  readonly limitBytes: number;

  constructor(message: string, limitBytes: number) {
    super('PayloadTooLarge', message);
    this.limitBytes = limitBytes;
  }
}

/**
 * A handler throws this to say "this job can never succeed; do not retry it".
 * The job is dead-lettered with reason `Poisoned`. Any other error is transient.
 */
export class PermanentJobError extends JobsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PermanentJobFailure', message, options);
  }
}

/** A handler may throw this to say "try again later"; any non-permanent error means the same. */
export class TransientJobError extends JobsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TransientJobFailure', message, options);
  }
}

/**
 * A handler throws this to say when to try again, for example from an upstream 429's `Retry-After`: the next attempt
 * is scheduled after `delayMs` (at most the type's `retry.maxDelayMs`) instead of the backoff. It counts as an
 * attempt, and after the last one the job is dead-lettered as `MaxRetriesExceeded` like any failure.
 */
export class RetryLaterError extends JobsError {
  readonly delayMs: number;

  constructor(message: string, delayMs: number, options?: { cause?: unknown }) {
    super('RetryLater', message, options);
    this.delayMs = delayMs;
  }
}

/**
 * Our own infrastructure (queue or job store) failed. Submissions answer 503; processing abandons the
 * message so the broker redelivers it, and the handler does not run.
 */
export class InfrastructureError extends JobsError {
  /**
   * The write may have applied: the store did not answer whether it did (a submission's commit whose answer was
   * lost). A repeat with the same idempotency keys finds out.
   */
  readonly outcomeUnknown: boolean;

  constructor(
    code: 'QueueUnavailable' | 'StoreUnavailable',
    message: string,
    options?: { cause?: unknown; outcomeUnknown?: boolean },
  ) {
    super(code, message, options);
    this.outcomeUnknown = options?.outcomeUnknown ?? false;
  }
}

/** What the caller named does not exist (a dead-lettered message that is not, or no longer, there). */
export class NotFoundError extends JobsError {
  constructor(message: string) {
    super('NotFound', message);
  }
}

/** The operation does not fit the state of what it names (a message that is not a job cannot be replayed). */
export class ConflictError extends JobsError {
  constructor(message: string) {
    super('Conflict', message);
  }
}

export class ConfigurationError extends JobsError {
  constructor(message: string) {
    super('InvalidConfiguration', message);
  }
}

export function isJobsError(error: unknown): error is JobsError {
  return error instanceof JobsError;
}

// Name-based, as the Service Bus SDK's guards are: a handler package with its own copy of this module still counts.
export function isPermanentJobError(error: unknown): error is PermanentJobError {
  return error instanceof Error && error.name === 'PermanentJobError';
}

export function isRetryLaterError(error: unknown): error is RetryLaterError {
  return (
    error instanceof Error &&
    error.name === 'RetryLaterError' &&
    typeof (error as RetryLaterError).delayMs === 'number'
  );
}

export function isInfrastructureError(error: unknown): error is InfrastructureError {
  return error instanceof Error && error.name === 'InfrastructureError';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
