import { z } from 'zod';
import { deadLetterReasonSchema } from './deadLetterReason';
import { isoTimestamp } from './isoTimestamp';
import type { JobMessage } from './jobMessage';
import { jobOutcomeSchema } from './jobOutcome';

export const jobStatusSchema = z.enum([
  'Queued',
  'Running',
  'Retrying',
  'Completed',
  'DeadLettered',
  'Cancelled',
]);

/** What an operator did with one of the job's dead-lettered messages. */
export const deadLetterActionSchema = z.object({
  action: z.enum(['Replayed', 'Discarded']),
  at: z.iso.datetime({ offset: true }),
  /** The message's sequence number in the dead-letter sub-queue (decimal text: Service Bus numbers are 64-bit). */
  sequenceNumber: z.string(),
  /** The reason it had been dead-lettered for. */
  reason: z.string(),
  payloadCorrected: z.boolean(),
});

export type DeadLetterAction = z.output<typeof deadLetterActionSchema>;

/** How far a running job has got, as its handler reported it. */
export const jobProgressSchema = z.object({
  percent: z.number().min(0).max(100),
  note: z.string().nullable(),
  at: z.iso.datetime({ offset: true }),
});

export type JobProgress = z.output<typeof jobProgressSchema>;

/** Only the latest actions are kept, so a record always fits one Table Storage property. */
export const maxDeadLetterActionsKept = 20;

/** The durable record of one job: where it stands, how many times it ran, and what each attempt came to. */
export const jobRecordSchema = z.object({
  jobId: z.string(),
  jobType: z.string(),
  status: jobStatusSchema,
  /**
   * The attempt cycle: 1 for the submission's, one more for each replay of the job from the dead-letter queue.
   * Attempts count from 1 again in each cycle, and every message id is derived from (jobId, cycle, attempt).
   * Absent from records stored before cycles (they are in their first).
   */
  cycle: z.int().min(1).default(1),
  /** Handler runs started so far in this cycle (0 while queued). */
  attempt: z.int().nonnegative(),
  /**
   * The attempt number carried by the message whose delivery started the latest run. A redelivery of that message
   * runs the next attempt (a run cut short counts), so only a message with a lower number is an older copy. Absent
   * from records stored before it (`attempt` stands in).
   */
  deliveredAttempt: z.int().nonnegative().nullable().default(null),
  maxAttempts: z.int().min(1),
  subjectId: z.string(),
  correlationId: z.string(),
  idempotencyKey: z.string(),
  submittedAt: z.iso.datetime({ offset: true }),
  startedAt: z.iso.datetime({ offset: true }).nullable(),
  completedAt: z.iso.datetime({ offset: true }).nullable(),
  updatedAt: z.iso.datetime({ offset: true }),
  nextAttemptAt: z.iso.datetime({ offset: true }).nullable(),
  lastOutcome: jobOutcomeSchema.nullable(),
  /** One outcome per attempt, oldest first, so retries are visible. */
  outcomes: z.array(jobOutcomeSchema),
  deadLetterReason: deadLetterReasonSchema.nullable(),
  deadLetterDescription: z.string().nullable(),
  /** The worker running the job now, and until when its claim holds; a claim past its time can be taken over. */
  claimedBy: z.string().nullable(),
  claimExpiresAt: z.iso.datetime({ offset: true }).nullable(),
  /** Replays and discards of its dead-lettered messages, oldest first; absent from records stored before them. */
  deadLetterActions: z.array(deadLetterActionSchema).default([]),
  /**
   * When an operator asked to cancel the job while it ran: its handler is aborted, and whatever the run comes to,
   * the job ends `Cancelled`. Absent from records stored before cancellation.
   */
  cancelRequestedAt: z.iso.datetime({ offset: true }).nullable().default(null),
  /** What the handler last reported of its run (`progress(percent, note)`); absent before the first report. */
  progress: jobProgressSchema.nullable().default(null),
});

export type JobRecord = z.output<typeof jobRecordSchema>;
export type JobStatus = z.output<typeof jobStatusSchema>;

/** Statuses a job never leaves on its own: a sweep leaves such a job alone, and retention removes it in time. */
export const terminalJobStatuses: readonly string[] = ['Completed', 'DeadLettered', 'Cancelled'];

/** Whether a job in `status` is finished (one of {@link terminalJobStatuses}). */
export function isTerminalJobStatus(status: string): boolean {
  return terminalJobStatuses.includes(status);
}

/** `now` as a Date, or as the ISO text the caller already has; `cycle` as the message that brought the job says. */
export function newJobRecord(job: JobMessage, now: Date | string, cycle = 1): JobRecord {
  return {
    jobId: job.jobId,
    jobType: job.jobType,
    status: 'Queued',
    cycle,
    attempt: 0,
    deliveredAttempt: null,
    maxAttempts: job.maxAttempts,
    subjectId: job.subjectId,
    correlationId: job.correlationId,
    idempotencyKey: job.idempotencyKey,
    submittedAt: job.createdAt,
    startedAt: null,
    completedAt: null,
    updatedAt: typeof now === 'string' ? now : isoTimestamp(now),
    nextAttemptAt: null,
    lastOutcome: null,
    outcomes: [],
    deadLetterReason: null,
    deadLetterDescription: null,
    claimedBy: null,
    claimExpiresAt: null,
    deadLetterActions: [],
    cancelRequestedAt: null,
    progress: null,
  };
}

/**
 * Since when an unfinished job has waited on nothing: its last write, or the time it waits for when that is later (a
 * Retrying job's next attempt, a Running job's claim). A job idle for longer than the reconciler's staleness has
 * stopped moving. `undefined` for a finished job.
 */
export function idleSinceMs(record: JobRecord): number | undefined {
  if (isTerminalJobStatus(record.status)) return undefined;
  const waitsFor =
    record.status === 'Retrying'
      ? record.nextAttemptAt
      : record.status === 'Running'
        ? record.claimExpiresAt
        : null;
  const updatedMs = Date.parse(record.updatedAt);
  return waitsFor === null ? updatedMs : Math.max(updatedMs, Date.parse(waitsFor));
}

/** Until when a worker's claim on a running job still holds; `undefined` when nobody's claim does at `now`. */
export function liveClaimExpiry(record: JobRecord, now: Date): Date | undefined {
  if (record.status !== 'Running' || !record.claimExpiresAt) return undefined;
  const expiresAt = Date.parse(record.claimExpiresAt);
  return expiresAt > now.getTime() ? new Date(expiresAt) : undefined;
}

/**
 * Whether a message carrying `attempt` of the record's cycle is an older copy: a later attempt's own message has
 * replaced it (a retry copy), so it must not run the job, nor stand for it in the dead-letter queue.
 */
export function isReplacedAttempt(record: JobRecord, attempt: number): boolean {
  return attempt < (record.deliveredAttempt ?? record.attempt);
}
