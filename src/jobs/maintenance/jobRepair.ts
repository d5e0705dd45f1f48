import type { DeadLetterReason } from '../model/deadLetterReason';
import { deadLetterReasonSchema } from '../model/deadLetterReason';
import type { JobRecord } from '../model/jobRecord';
import { idleSinceMs, isReplacedAttempt, liveClaimExpiry } from '../model/jobRecord';

/** What the reconciler does for a record that has not changed for a while. */
export type RecordRepair =
  /** Still Queued: the submission may have died before its send. Send the cycle's first message again. */
  | { kind: 'resendFirst' }
  /** Retrying, long past its due time: the retry copy never came. Send it now. */
  | { kind: 'resendRetry'; attempt: number }
  /** Running, long past its claim: the message did not come back after the run was cut short. Send a copy. */
  | { kind: 'resendRun' }
  | { kind: 'none' };

/**
 * The repair of an unfinished record idle since before `now - staleAfterMs` (`idleSinceMs`). Pure; every repair
 * resends a message under an id that de-duplicates it against the one that went missing, and a copy that arrives
 * after all is recognised by the dispatcher as an older send (see `decideDelivery`), so a repair never runs an
 * attempt twice.
 */
export function repairOf(record: JobRecord, now: Date, staleAfterMs: number): RecordRepair {
  const idleSince = idleSinceMs(record);
  if (idleSince === undefined || idleSince > now.getTime() - staleAfterMs) return none;
  switch (record.status) {
    case 'Queued':
      return { kind: 'resendFirst' };
    case 'Retrying':
      return { kind: 'resendRetry', attempt: record.attempt + 1 };
    case 'Running':
      return { kind: 'resendRun' };
    default:
      return none;
  }
}

const none = { kind: 'none' } as const;
const replaced = { kind: 'remove', why: 'A later attempt of the job has replaced this message.' } as const;

/** What the reconciler does with a message in the dead-letter queue, given its job's record. */
export type DeadLetterRepair =
  /** The record still says the job is under way, but its current message is here: record it as dead-lettered. */
  | { kind: 'recordDeadLettered'; reason: DeadLetterReason; description: string }
  /** A copy the job no longer needs (it completed, a later attempt or cycle replaced it, or it is a second copy). */
  | { kind: 'remove'; why: string }
  | { kind: 'none' };

export interface DeadLetteredAttempt {
  readonly cycle: number;
  readonly attempt: number;
  /** The broker's reason and description. */
  readonly reason: string;
  readonly description: string;
  /** Another message of the same job and cycle came earlier in the dead-letter queue. */
  readonly repeated: boolean;
}

/**
 * Keeps the dead-letter queue and the records in agreement: it holds exactly the jobs whose record says
 * DeadLettered, once each. Pure. A job with no record is left alone (not ours, or an operator's to look at).
 */
export function deadLetterRepairOf(
  record: JobRecord | undefined,
  message: DeadLetteredAttempt,
  now: Date,
): DeadLetterRepair {
  if (!record) return none;
  if (record.status === 'Completed') return { kind: 'remove', why: 'The job has completed.' };
  if (message.cycle < record.cycle) return replaced;
  if (message.cycle > record.cycle) return none;
  // Whatever its attempt (a run cut short moves the record's on under the same message), one copy stays.
  if (record.status === 'DeadLettered')
    return message.repeated ? { kind: 'remove', why: 'The job is in the dead-letter queue already.' } : none;
  if (isReplacedAttempt(record, message.attempt)) return replaced;
  // A worker that still holds a claim will settle the job itself.
  if (liveClaimExpiry(record, now)) return none;
  const known = deadLetterReasonSchema.safeParse(message.reason);
  return {
    kind: 'recordDeadLettered',
    reason: known.success ? known.data : 'MaxRetriesExceeded',
    description: known.success ? message.description : `${message.reason}: ${message.description}`,
  };
}
