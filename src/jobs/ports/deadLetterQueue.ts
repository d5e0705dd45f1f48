/** A sequence number as operators give it: decimal text of at most 19 digits (Service Bus numbers are 64-bit). */
export const sequenceNumberPattern = /^\d{1,19}$/;

/** A message in the queue's dead-letter sub-queue, as the broker holds it. */
export interface DeadLetterEntry {
  /** Decimal text: Service Bus sequence numbers are 64-bit, more than a JavaScript number holds exactly. */
  readonly sequenceNumber: string;
  readonly messageId: string;
  /** The job's attempt cycle the message was sent for (`JobAttemptCycle`; 1 when absent). */
  readonly cycle: number;
  /** As stored: JSON text or bytes, never parsed by the transport (a malformed body must still be readable). */
  readonly body: unknown;
  /** The broker's `DeadLetterReason`: one of ours, or the broker's own (`MaxDeliveryCountExceeded`, …). */
  readonly reason: string;
  readonly description: string;
  /** Failed deliveries before it was dead-lettered (AMQP convention: 0 before the first). */
  readonly deliveryCount: number;
  /** When it entered the sub-queue, when the broker says so. */
  readonly deadLetteredAt: Date | undefined;
  /** The sender's W3C `traceparent` (`Diagnostic-Id`), carried on to a replay. */
  readonly traceParent: string | undefined;
}

export interface DeadLetterScan {
  /** Oldest first. */
  readonly entries: readonly DeadLetterEntry[];
  /** More messages are in the sub-queue than were read. */
  readonly truncated: boolean;
}

/** One dead-lettered message held under a lock: nobody else can take it until it is removed or released. */
export interface LockedDeadLetter {
  readonly entry: DeadLetterEntry;
  /** Removes it from the sub-queue for good. */
  remove(): Promise<void>;
  /** Leaves it in the sub-queue, as it was. Never throws: an unreleased lock runs out by itself. */
  release(): Promise<void>;
}

/**
 * The dead-letter sub-queue of the job queue, for operators: read it without removing anything, and take one
 * message by its sequence number. Both transports implement it; adapters throw
 * `InfrastructureError('QueueUnavailable')` when the broker cannot be reached.
 */
export interface DeadLetterQueue {
  /**
   * Reads up to `max` messages without locking or removing them, oldest first; after `afterSequenceNumber` when
   * given (a scan that goes on where the last one stopped).
   */
  peekDeadLetters(max: number, afterSequenceNumber?: string): Promise<DeadLetterScan>;
  peekDeadLetter(sequenceNumber: string): Promise<DeadLetterEntry | undefined>;
  /**
   * Locks the message; `undefined` when it is not there, another operation holds it, or the search could not reach it
   * (Service Bus: every message in front of it is held aside while searching, and their locks may run out first).
   */
  lockDeadLetter(sequenceNumber: string): Promise<LockedDeadLetter | undefined>;
  close(): Promise<void>;
}
