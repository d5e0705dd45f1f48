import type { JobMessage } from '../jobs/jobMessage';
import { toWireBody } from '../jobs/jobMessage';

/** A job on its way to the queue, with the broker message id that de-duplicates it. */
export interface OutgoingJobMessage {
  readonly messageId: string;
  readonly job: JobMessage;
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

/** The application property that carries `recordEtag` on Service Bus. */
export const recordEtagProperty = 'JobRecordETag';
/** The application property Service Bus tracing uses for the W3C trace context (traceparent form). */
export const diagnosticIdProperty = 'Diagnostic-Id';

function outgoing(messageId: string, job: JobMessage, traceParent: string | undefined): OutgoingJobMessage {
  return { messageId, job, body: JSON.stringify(toWireBody(job)), traceParent };
}

/** First send: `MessageId` = idempotency key when there is one (broker de-duplication, ADR-004), else the jobId. */
export function firstMessageOf(job: JobMessage, traceParent?: string): OutgoingJobMessage {
  return outgoing(job.idempotencyKey || job.jobId, job, traceParent);
}

/**
 * A retry copy gets its own id, deterministic per attempt: if a crash makes us schedule the same retry twice,
 * duplicate detection drops the second copy.
 */
export function retryMessageOf(job: JobMessage, attempt: number, traceParent?: string): OutgoingJobMessage {
  return outgoing(`${job.jobId}:attempt-${attempt}`, { ...job, attempt }, traceParent);
}

/** A copy of the same attempt, to look at the job again once another worker's claim on it has run out. */
export function recheckMessageOf(job: JobMessage, at: Date, traceParent?: string): OutgoingJobMessage {
  return outgoing(`${job.jobId}:attempt-${job.attempt}:after-${at.getTime()}`, job, traceParent);
}

/**
 * A dead-lettered job an operator sends back: a fresh attempt cycle (attempt 1) under an id named after the
 * dead-lettered message it replays, so a replay retried after a send that may have gone through is de-duplicated.
 */
export function replayMessageOf(
  job: JobMessage,
  deadLetterSequenceNumber: string,
  traceParent?: string,
): OutgoingJobMessage {
  return outgoing(`${job.jobId}:replay-${deadLetterSequenceNumber}`, { ...job, attempt: 1 }, traceParent);
}
