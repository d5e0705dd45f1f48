import { z } from 'zod';
import { PayloadTooLargeError } from '../errors';

/**
 * An idempotency key, in a job's body or as a request's `Idempotency-Key`: it becomes the Service Bus MessageId,
 * which is limited to 128 characters (a batch item's key is `<key>:<index>`).
 */
export const idempotencyKeySchema = z.string().trim().min(1).max(100);

/**
 * A job type as a caller names it, in a submission or a filter: exactly, without spaces around it. The queue's
 * contract stays tolerant (a message's jobType is trimmed, so another producer's message is not refused for it);
 * the API does not guess.
 */
export const jobTypeNameSchema = z
  .string()
  .min(1)
  .max(128)
  .refine((name) => name.trim() === name, 'A job type has no leading or trailing spaces.');

/** What a caller submits: one job. The service fills in jobId, attempt, createdAt and defaults. */
export const jobSubmissionRequestSchema = z.strictObject({
  jobType: jobTypeNameSchema,
  /** Optional: absent or `null` is `{}`, which the job type's schema then checks (docs/api.md). */
  payload: z
    .unknown()
    .optional()
    .transform((payload) => payload ?? {}),
  idempotencyKey: idempotencyKeySchema.optional(),
  subjectId: z.string().max(256).optional(),
  correlationId: z.string().max(256).optional(),
  maxAttempts: z.int().min(1).max(100).optional(),
});

export type JobSubmissionRequest = z.input<typeof jobSubmissionRequestSchema>;

/** Jobs per submission: one Service Bus batch's worth, and a bound on one request's work. */
export const maxJobsPerSubmission = 100;

/**
 * Largest serialized job message: Service Bus Standard takes 256 KB per message, and headers, properties and
 * AMQP framing need room too.
 */
export const maxJobMessageBytes = 192 * 1024;

/** Refuses a job whose wire body is over `maxJobMessageBytes`, naming it as `subject` ("Job /3", "The replayed job"). */
export function assertFitsOneMessage(body: string, subject: string): void {
  const size = Buffer.byteLength(body);
  if (size > maxJobMessageBytes) {
    throw new PayloadTooLargeError(
      `${subject} is ${size} bytes as a message; the limit is ${maxJobMessageBytes}.`,
      maxJobMessageBytes,
    );
  }
}
