import type { HttpResponseInit } from '@azure/functions';
import type { FieldError } from '../jobs/errors';
import { InfrastructureError, ValidationError, isJobsError } from '../jobs/errors';
import type { Logger } from '../jobs/support/logger';

/** Seconds a client should wait before retrying a 503. */
const retryAfterSeconds = 5;

/** An RFC 9457 problem document. `errors` names each failing field by JSON Pointer. */
export function problem(
  status: number,
  title: string,
  detail: string,
  extra: {
    errors?: readonly FieldError[];
    headers?: Record<string, string>;
    /** More members of the problem document (RFC 9457 extension members). */
    extensions?: Record<string, unknown>;
  } = {},
): HttpResponseInit {
  return {
    status,
    headers: { 'Content-Type': 'application/problem+json', ...extra.headers },
    body: JSON.stringify({
      type: 'about:blank',
      title,
      status,
      detail,
      ...extra.extensions,
      ...(extra.errors ? { errors: extra.errors } : {}),
    }),
  };
}

/** A 400 naming each failing field, its detail the fields and their messages in one line. */
export function invalidFields(title: string, errors: readonly FieldError[]): HttpResponseInit {
  return problem(400, title, errors.map(({ field, message }) => `${field}: ${message}`).join('; '), {
    errors,
  });
}

/** zod's issues as field errors: the path, dotted, names the field. */
export function fieldErrorsOf(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): FieldError[] {
  return issues.map((issue) => ({ field: issue.path.map(String).join('.'), message: issue.message }));
}

function titleOf(error: Error): string {
  return error.name === 'InvalidContinuationTokenError' ? 'Invalid query' : 'Invalid job submission';
}

/** Maps an error to its HTTP answer; anything unexpected is logged and answered 500 without internals. */
export function errorResponse(error: unknown, logger: Logger): HttpResponseInit {
  if (isJobsError(error)) {
    switch (error.code) {
      case 'ValidationFailed':
        return problem(400, titleOf(error), error.message, {
          errors: error instanceof ValidationError ? error.errors : [],
        });
      case 'PayloadTooLarge':
        return problem(413, 'Payload too large', error.message);
      case 'NotFound':
        return problem(404, 'Not found', error.message);
      case 'Conflict':
        return problem(409, 'Conflict', error.message);
      case 'QueueUnavailable':
      case 'StoreUnavailable':
        logger.warn('Answering 503', { code: error.code, error: error.message });
        if (error instanceof InfrastructureError && error.outcomeUnknown) {
          return problem(
            503,
            'Service unavailable',
            'The job store did not answer whether the request was recorded; send it again with the same ' +
              'idempotency keys to find out (a job without a key may have been accepted).',
            { headers: { 'Retry-After': String(retryAfterSeconds) }, extensions: { outcome: 'unknown' } },
          );
        }
        return problem(
          503,
          'Service unavailable',
          'The job queue or job store is unavailable; try again later.',
          {
            headers: { 'Retry-After': String(retryAfterSeconds) },
          },
        );
      default:
        break;
    }
  }
  logger.error('Unexpected error while handling a request', {
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  return problem(500, 'Internal server error', 'The request failed unexpectedly; it has been logged.');
}
