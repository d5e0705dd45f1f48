import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { fieldErrors } from '../jobs/model/fieldErrors';
import { sequenceNumberPattern } from '../jobs/ports/deadLetterQueue';
import { jobIdSchema } from '../jobs/model/jobMessage';
import { deadLetterReasonSchema } from '../jobs/model/deadLetterReason';
import { jobTypeNameSchema } from '../jobs/submission/jobSubmissionRequest';
import { fieldErrorsOf, invalidFields, problem } from './httpProblem';
import { oneOf } from './queryParameters';

export type Parsed<T> = { ok: true; value: T } | { ok: false; response: HttpResponseInit };

/** The route of one dead-lettered message: its sequence number, 64-bit on Service Bus, so kept as decimal text. */
export const sequenceNumberParams = z.object({
  sequenceNumber: z.string().regex(sequenceNumberPattern, 'Expected a sequence number (digits only).'),
});

/** The route of one job: its id, a GUID (anything else, `a%2Fb`, is a bad request, not a question for the store). */
export const jobIdParams = z.object({ jobId: jobIdSchema.transform((jobId) => jobId.toLowerCase()) });

/** The body of a bulk dead-letter operation: `{ reason?, jobType? }` or `{ all: true }`; `nothingNamed` says what to send. */
export function deadLetterFilterBody(nothingNamed: string) {
  return z
    .strictObject({
      reason: oneOf(deadLetterReasonSchema).optional(),
      jobType: jobTypeNameSchema.optional(),
      all: z.literal(true).optional(),
    })
    .refine((body) => body.reason !== undefined || body.jobType !== undefined || body.all === true, {
      message: nothingNamed,
      path: ['reason'],
    });
}

/** Most bytes a bulk dead-letter operation's body may have. */
export const maxDeadLetterFilterBodyBytes = 64 * 1024;

const jsonMediaType = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/** `application/json`, or any `+json` type, with or without parameters. */
export function isJsonContentType(contentType: string): boolean {
  return jsonMediaType.test(contentType);
}

/** JSON text, or a 400 with the parser's complaint. */
export function parseJsonText(text: string): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const detail = `The body is not valid JSON: ${(error as Error).message}`;
    return {
      ok: false,
      response: problem(400, 'Invalid JSON', detail, { errors: [{ field: '', message: detail }] }),
    };
  }
}

/** Route parameters against `schema`; a 400 naming each failing parameter otherwise. */
export function parsePathParameters<T extends z.ZodType>(
  request: HttpRequest,
  schema: T,
): Parsed<z.output<T>> {
  const result = schema.safeParse(request.params);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, response: invalidFields('Invalid path', fieldErrorsOf(result.error.issues)) };
}

/**
 * An optional JSON body against `schema` (an empty body reads as `{}`): 415 when it is not sent as JSON, 400 naming
 * each failing field by JSON Pointer.
 */
export async function parseOptionalJsonBody<T extends z.ZodType>(
  request: HttpRequest,
  schema: T,
  maxBytes: number,
): Promise<Parsed<z.output<T>>> {
  const text = await request.text();
  if (Buffer.byteLength(text) > maxBytes) {
    return {
      ok: false,
      response: problem(413, 'Payload too large', `A body may be at most ${maxBytes} bytes.`),
    };
  }
  let value: unknown = {};
  if (text.trim() !== '') {
    const contentType = request.headers.get('content-type') ?? '';
    if (!isJsonContentType(contentType)) {
      return {
        ok: false,
        response: problem(
          415,
          'Unsupported media type',
          `Send the body as JSON with 'Content-Type: application/json' (got '${contentType || 'none'}').`,
        ),
      };
    }
    const parsed = parseJsonText(text);
    if (!parsed.ok) return parsed;
    value = parsed.value;
  }
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    response: problem(400, 'Invalid request body', 'The body is invalid.', {
      errors: fieldErrors(result.error.issues),
    }),
  };
}

/** The route of a function that takes no parameters. */
export const noPathParameters = z.object({});
