import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isoTimestamp } from './isoTimestamp';

const optionalId = z.string().max(256).nullish();

/** A job's id: a GUID (any case; the app keeps it lowercase). */
export const jobIdSchema = z.guid();

/**
 * The job contract (ADR-004) as it travels on the queue: UTF-8 JSON, camelCase, exactly what the platform's
 * C# `JobSubmissionService` sends. Unknown fields (such as its computed `isAtMaxAttempts`) are ignored.
 */
export const jobMessageSchema = z
  .object({
    jobId: jobIdSchema,
    jobType: z.string().trim().min(1).max(128),
    subjectId: optionalId,
    correlationId: optionalId,
    idempotencyKey: optionalId,
    attempt: z.int().min(1).default(1),
    maxAttempts: z.int().min(1).max(100).default(3),
    payload: z.unknown().optional(),
    createdAt: z.iso.datetime({ offset: true }),
  })
  // One normalising step for the whole object (not one per field): it runs for every message received.
  .transform((job) => ({
    jobId: job.jobId.toLowerCase(),
    jobType: job.jobType,
    // The C# producer writes "" for an unset id; null is tolerated too and means the same.
    subjectId: job.subjectId ?? '',
    correlationId: job.correlationId ?? '',
    idempotencyKey: job.idempotencyKey ?? '',
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    payload: job.payload ?? null,
    createdAt: job.createdAt,
  }));

/** A job as the dispatcher and handlers see it. `subjectId`, `correlationId`, `idempotencyKey` are "" when unset. */
export type JobMessage = z.output<typeof jobMessageSchema>;

/** The body as the C# producer serializes it, `isAtMaxAttempts` included so C# consumers read ours alike. */
export type JobMessageWireBody = JobMessage & { isAtMaxAttempts: boolean };

/** A new job on its first attempt, with the contract's defaults for every field not given. */
export function newJobMessage(
  fields: Pick<JobMessage, 'jobType' | 'payload'> & Partial<JobMessage>,
  createdAt: Date = new Date(),
): JobMessage {
  return {
    // Made only when not given: submission gives both, once per batch for the timestamp.
    jobId: fields.jobId ?? randomUUID(),
    subjectId: '',
    correlationId: '',
    idempotencyKey: '',
    attempt: 1,
    maxAttempts: 3,
    createdAt: fields.createdAt ?? isoTimestamp(createdAt),
    ...fields,
  };
}

export type JobMessageParseResult = { ok: true; job: JobMessage } | { ok: false; description: string };

/**
 * Parses a received body into a job. The body may be a parsed object, JSON text, or UTF-8 bytes (with or without
 * a byte-order mark), holding the job or a JSON string of it; keys may be camelCase or PascalCase.
 */
export function parseJobMessage(body: unknown): JobMessageParseResult {
  const decoded = unwrapJsonText(decodeBody(body));
  if (!decoded.ok) return decoded;
  if (typeof decoded.value !== 'object' || decoded.value === null || Array.isArray(decoded.value)) {
    return {
      ok: false,
      description: `The body is JSON but not a job object (got ${describeJson(decoded.value)}).`,
    };
  }
  const result = jobMessageSchema.safeParse(camelCaseKeys(decoded.value as Record<string, unknown>));
  if (result.success) return { ok: true, job: result.data };
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
  return { ok: false, description: `The body is not a valid job: ${problems.join('; ')}.` };
}

export function toWireBody(job: JobMessage): JobMessageWireBody {
  return { ...job, isAtMaxAttempts: job.attempt >= job.maxAttempts };
}

type Decoded = { ok: true; value: unknown } | { ok: false; description: string };

function decodeBody(body: unknown): Decoded {
  if (body instanceof Uint8Array)
    return parseJsonText(Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8'));
  if (body instanceof ArrayBuffer) return parseJsonText(Buffer.from(body).toString('utf8'));
  if (typeof body === 'string') return parseJsonText(body);
  if (body === undefined || body === null) return { ok: false, description: 'The body is empty.' };
  return { ok: true, value: body };
}

/**
 * JSON text inside a JSON string, once: what the JavaScript SDK sends for `body: JSON.stringify(job)`, since it
 * encodes a string body as JSON again.
 */
function unwrapJsonText(decoded: Decoded): Decoded {
  if (!decoded.ok || typeof decoded.value !== 'string') return decoded;
  const inner = parseJsonText(decoded.value);
  return inner.ok ? inner : decoded;
}

function parseJsonText(text: string): Decoded {
  const withoutBom = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (withoutBom.trim() === '') return { ok: false, description: 'The body is empty.' };
  try {
    return { ok: true, value: JSON.parse(withoutBom) };
  } catch (error) {
    return { ok: false, description: `The body is not JSON: ${(error as Error).message}.` };
  }
}

// Only top-level keys: the payload belongs to the handler and is passed on untouched.
function camelCaseKeys(value: Record<string, unknown>): Record<string, unknown> {
  if (!hasPascalCaseKey(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    const camel = key.charAt(0).toLowerCase() + key.slice(1);
    if (!(camel in result) || key === camel) result[camel] = entry;
  }
  return result;
}

const pascalCaseContractKeys = Object.keys(jobMessageSchema.in.shape).map(
  (key) => key.charAt(0).toUpperCase() + key.slice(1),
);

// The common case (our producers and the C# one write camelCase) costs a few lookups and no copy.
function hasPascalCaseKey(value: Record<string, unknown>): boolean {
  return pascalCaseContractKeys.some((key) => key in value);
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
