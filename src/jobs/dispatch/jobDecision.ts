import type { RetrySettings } from '../jobTypes/jobTypePolicy';
import type { DeadLetterReason } from '../model/deadLetterReason';
import type { JobOutcomeStatus } from '../model/jobOutcome';
import type { JobRecord } from '../model/jobRecord';
import { isReplacedAttempt, liveClaimExpiry } from '../model/jobRecord';
import { retryDelayMs } from './retryPolicy';

/** Which send of a job a delivered message is: its attempt cycle and attempt number, and the job's attempt limit. */
export interface DeliveredAttempt {
  readonly cycle: number;
  readonly attempt: number;
  readonly maxAttempts: number;
}

/** Whether the job's handler can take it (a `HandlerMatch` is one). */
export type HandlerVerdict = { ok: true } | { ok: false; reason: DeadLetterReason; description: string };

/** What to do with one delivered message, given the job's record. */
export type DeliveryDecision =
  /** Claim the job for this attempt and run its handler. */
  | { kind: 'run'; cycle: number; attempt: number }
  /** Nothing to run: the job completed, or the message is an older send that a later one has replaced. */
  | { kind: 'complete'; why: 'AlreadyCompleted' | 'Superseded' | 'Cancelled' }
  /** An operator asked to cancel the job while it ran, and its run is over: record it Cancelled, never run it. */
  | { kind: 'cancel' }
  /**
   * The message is the original (or an older copy) of an attempt whose retry is pending: make sure the retry copy is
   * scheduled (a crash
   * may have come between recording the retry and scheduling it; a copy already there is a duplicate the queue
   * drops), then complete the original. Never run it: that would run the next attempt twice.
   */
  | { kind: 'ensureRetry'; cycle: number; attempt: number; at: Date }
  /** Another worker's claim holds: look again when it runs out. */
  | { kind: 'recheck'; at: Date }
  /** Dead-letter the message; `recordIt` when the record does not say so yet. */
  | { kind: 'deadLetter'; reason: DeadLetterReason; description: string; recordIt: boolean };

/**
 * The dispatcher's decision on a delivered message, before anything runs. Pure: the record as read, the message's
 * (cycle, attempt), the handler's verdict on the job, and the time. An attempt is a handler run: every run starts
 * with a durable claim that counts it, so a run cut short by a crash counts too; the broker's delivery count is not
 * used, since deliveries that never ran the handler (storage outages) must not use up attempts.
 */
export function decideDelivery(
  record: JobRecord,
  delivered: DeliveredAttempt,
  handler: HandlerVerdict,
  now: Date,
  /** The worker holding the record's claim is known to be gone (see `isGoneLocalWorker`): its claim no longer holds. */
  claimHolderGone = false,
): DeliveryDecision {
  if (delivered.cycle < record.cycle) return superseded;
  // Cancellation wins over every copy: a retry scheduled before it, a recheck, a replay.
  if (record.status === 'Cancelled') return { kind: 'complete', why: 'Cancelled' };
  // A cycle the record has not seen yet (a replay whose record reset was lost): the message starts it.
  const fresh = delivered.cycle > record.cycle;
  if (!fresh) {
    // A message's attempt can trail the record's with no newer message sent: a run cut short counts, and the same
    // message's redelivery runs the next attempt. So an earlier attempt alone does not make a message an older copy.
    if (record.status === 'Completed') return { kind: 'complete', why: 'AlreadyCompleted' };
    if (record.status === 'DeadLettered') {
      // A message its retry copy has replaced does not stand for the job: dead-lettered too, it would be a second
      // copy in the dead-letter queue. Only a record that knows which message ran last can tell (see
      // `deliveredAttempt`); without it, a lower attempt may be that same message, its run cut short.
      if (record.deliveredAttempt !== null && isReplacedAttempt(record, delivered.attempt)) return superseded;
      // Never rerun it. Host settlement cannot dead-letter: the message comes back until MaxDeliveryCount. Should
      // it be a second copy, the reconciler removes the extra one from the dead-letter queue.
      const reason = record.deadLetterReason ?? 'MaxRetriesExceeded';
      return { kind: 'deadLetter', reason, description: record.deadLetterDescription ?? '', recordIt: false };
    }
    if (record.status === 'Retrying' && delivered.attempt <= record.attempt) {
      const due = record.nextAttemptAt ? new Date(record.nextAttemptAt) : now;
      return {
        kind: 'ensureRetry',
        cycle: record.cycle,
        attempt: record.attempt + 1,
        at: due > now ? due : now,
      };
    }
    // Running or Queued: a newer attempt's own message will come back, so this one is an older copy.
    if (isReplacedAttempt(record, delivered.attempt)) return superseded;
    const claimExpiresAt = liveClaimExpiry(record, now);
    if (claimExpiresAt && !claimHolderGone) return { kind: 'recheck', at: claimExpiresAt };
    // The run the cancel was meant for is over (its worker died with it): nothing may run it again.
    if (record.cancelRequestedAt) return { kind: 'cancel' };
  }

  if (!handler.ok) {
    return { kind: 'deadLetter', reason: handler.reason, description: handler.description, recordIt: true };
  }
  // A redelivery of the attempt whose run was cut short (crash, lost lock) is the next attempt.
  const attempt = fresh ? delivered.attempt : Math.max(delivered.attempt, record.attempt + 1);
  if (attempt > delivered.maxAttempts) {
    const description = `No attempts left: this would be attempt ${attempt} of ${delivered.maxAttempts}.`;
    return { kind: 'deadLetter', reason: 'MaxRetriesExceeded', description, recordIt: true };
  }
  return { kind: 'run', cycle: fresh ? delivered.cycle : record.cycle, attempt };
}

const superseded: DeliveryDecision = { kind: 'complete', why: 'Superseded' };

/** How one handler run ended. */
export type RunResult =
  | { status: 'Completed' }
  | {
      status: Exclude<JobOutcomeStatus, 'Completed'>;
      error: string;
      cause: unknown;
      interruptedByShutdown: boolean;
      /** The handler asked for the next attempt after this long (`RetryLaterError`). */
      retryAfterMs?: number;
    };

/** What a handler run comes to. Retries are copies of the message scheduled by the app (Service Bus has no delay). */
export type RunDecision =
  | { kind: 'complete' }
  | { kind: 'retry'; at: Date; delayMs: number; error: string }
  | { kind: 'deadLetter'; reason: DeadLetterReason; description: string }
  /** Shutdown cut the run short: the record says Retrying, due now, and the message goes back to the queue. */
  | { kind: 'abandon'; error: string };

/** The decision after attempt `attempt` of `maxAttempts` ran. Pure, but for `random` (the retry jitter). */
export function decideAfterRun(
  result: RunResult,
  attempt: number,
  maxAttempts: number,
  retry: RetrySettings,
  now: Date,
  random: () => number,
): RunDecision {
  if (result.status === 'Completed') return { kind: 'complete' };
  if (result.status === 'Poisoned')
    return { kind: 'deadLetter', reason: 'Poisoned', description: result.error };
  if (result.interruptedByShutdown) return { kind: 'abandon', error: result.error };
  if (attempt >= maxAttempts) {
    const description = `Failed ${attempt} of ${maxAttempts} attempts; last error: ${result.error}`;
    return { kind: 'deadLetter', reason: 'MaxRetriesExceeded', description };
  }
  const delayMs =
    result.retryAfterMs === undefined
      ? retryDelayMs(attempt, retry, random)
      : Math.round(Math.min(Math.max(0, result.retryAfterMs), retry.maxDelayMs));
  return { kind: 'retry', at: new Date(now.getTime() + delayMs), delayMs, error: result.error };
}
