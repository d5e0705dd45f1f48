import type { JobMessage } from './jobMessage';
import { toWireBody } from './jobMessage';

/** A job on its way to the queue, with the broker message id that de-duplicates it. */
export interface OutgoingJobMessage {
  readonly messageId: string;
  readonly job: JobMessage;
  /** The job's attempt cycle (1 until a replay), carried beside the body: see `JobRecord.cycle`. */
  readonly cycle: number;
  /** The wire body (JSON text), serialized once: size checks and every transport use it. */
  readonly body: string;
  /** The ETag of the record submission created, carried beside the body (see `ReceivedJobMessage.recordEtag`). */
  readonly recordEtag?: string;
  /**
   * The W3C `traceparent` of the operation that sent it (the submitting request, or the attempt that scheduled a
   * retry), so processing continues that trace. Sent as the `Diagnostic-Id` application property on Service Bus.
   */
  readonly traceParent?: string;
}

function outgoing(
  messageId: string,
  job: JobMessage,
  cycle: number,
  traceParent: string | undefined,
): OutgoingJobMessage {
  return { messageId, job, cycle, body: JSON.stringify(toWireBody(job)), traceParent };
}

/**
 * The message id of attempt `attempt` in attempt cycle `cycle`: the one rule for message identity, so no two
 * different sends share an id and a resend of the same one does (the broker's duplicate detection drops it).
 * The submission's first message keeps ADR-004's id: the idempotency key when there is one, else the jobId.
 */
export function jobMessageId(
  job: Pick<JobMessage, 'jobId' | 'idempotencyKey'>,
  cycle: number,
  attempt: number,
): string {
  if (cycle === 1) return attempt === 1 ? job.idempotencyKey || job.jobId : `${job.jobId}:attempt-${attempt}`;
  return `${job.jobId}:cycle-${cycle}:attempt-${attempt}`;
}

/** The first send of attempt 1 of a cycle: the submission's (cycle 1) or a replay's. */
export function firstMessageOf(job: JobMessage, traceParent?: string, cycle = 1): OutgoingJobMessage {
  const first = job.attempt === 1 ? job : { ...job, attempt: 1 };
  return outgoing(jobMessageId(job, cycle, 1), first, cycle, traceParent);
}

/** The copy that carries attempt `attempt` of cycle `cycle`: a retry, scheduled after the backoff. */
export function retryMessageOf(
  job: JobMessage,
  cycle: number,
  attempt: number,
  traceParent?: string,
): OutgoingJobMessage {
  return outgoing(jobMessageId(job, cycle, attempt), { ...job, attempt }, cycle, traceParent);
}

/** A copy of the same attempt, to look at the job again once another worker's claim on it has run out. */
export function recheckMessageOf(
  job: JobMessage,
  cycle: number,
  at: Date,
  traceParent?: string,
): OutgoingJobMessage {
  return outgoing(
    `${jobMessageId(job, cycle, job.attempt)}:recheck-${at.getTime()}`,
    job,
    cycle,
    traceParent,
  );
}

/**
 * A copy of attempt `attempt` sent by the reconciler for a run whose message never came back. Its own id: the
 * attempt's message was settled or dead-lettered, and its id may still be in the broker's duplicate window.
 */
export function repairMessageOf(
  job: JobMessage,
  cycle: number,
  attempt: number,
  at: Date,
): OutgoingJobMessage {
  return outgoing(
    `${jobMessageId(job, cycle, attempt)}:repair-${at.getTime()}`,
    { ...job, attempt },
    cycle,
    undefined,
  );
}
