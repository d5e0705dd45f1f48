import type { DeadLetterReason } from './deadLetterReason';
import { isoTimestamp } from './isoTimestamp';
import type { JobOutcome } from './jobOutcome';
import type { DeadLetterAction, JobProgress, JobRecord } from './jobRecord';
import { isTerminalJobStatus, liveClaimExpiry, maxDeadLetterActionsKept } from './jobRecord';

/** What a finished run leaves the job to: done, a retry due at a time, or the dead-letter queue. */
export type RunNext =
  | { readonly status: 'Completed' }
  | { readonly status: 'Retrying'; readonly nextAttemptAt: string }
  | { readonly status: 'DeadLettered'; readonly reason: DeadLetterReason; readonly description: string };

/** Everything that changes a job's record after it is created, whoever writes it. */
export type JobEvent =
  /** A worker claims the job to run `attempt` of `cycle` (the dispatcher has decided it may), until a time. */
  | {
      readonly type: 'Claimed';
      readonly cycle: number;
      readonly attempt: number;
      /** The attempt number the delivered message carried. */
      readonly deliveredAttempt: number;
      readonly workerId: string;
      readonly claimExpiresAt: string;
    }
  /** The claimed run ended with `outcome`; a job whose cancel was asked for meanwhile ends Cancelled instead. */
  | {
      readonly type: 'RunEnded';
      readonly outcome: JobOutcome;
      readonly progress: JobProgress | null;
      readonly next: RunNext;
    }
  /** The job is dead-lettered without a run: no handler, an invalid payload, no attempts left, or the broker's own. */
  | { readonly type: 'DeadLettered'; readonly reason: DeadLetterReason; readonly description: string }
  /** An operator asks to cancel the job: at once when it is not running, else when its run ends. */
  | { readonly type: 'CancelRequested' }
  /** The run a cancel was meant for is over (its worker died with it): the job ends Cancelled, never to run again. */
  | { readonly type: 'CancelCompleted' }
  /** The running handler reports how far it has got. */
  | { readonly type: 'ProgressReported'; readonly progress: JobProgress; readonly workerId: string }
  /** An operator sends a dead-lettered job back: a new attempt cycle, the record reset to Queued. */
  | { readonly type: 'Replayed'; readonly action: DeadLetterAction }
  /** An operator discards a dead-lettered message of the job. */
  | { readonly type: 'Discarded'; readonly action: DeadLetterAction }
  /** A replay or discard could not finish: the record as it was before, keeping any attempt cycle used since. */
  | { readonly type: 'Restored'; readonly previous: JobRecord }
  /** The reconciler takes up a job that stopped moving (and restarts its stale clock) before sending it again. */
  | { readonly type: 'Touched' };

/** Why an event does not apply to the record as it stands. */
export type Refusal =
  /** The job is finished (Completed, DeadLettered or Cancelled): nothing but a replay changes it. */
  | 'Finished'
  /** The job has completed: a dead-lettered copy of it cannot be replayed. */
  | 'Completed'
  /** A worker's claim on the job holds: it cannot be replayed under that worker. */
  | 'Running'
  /** The reporting worker no longer holds the job's claim. */
  | 'NotClaimed';

export type Transition =
  { readonly ok: true; readonly record: JobRecord } | { readonly ok: false; readonly refusal: Refusal };

/**
 * The one place a job's record changes after its creation: the record an event makes of `record` at `now`, or why
 * the event does not apply. Pure; every writer (dispatcher, cancel, progress, dead-letter operations, reconciler)
 * applies its events through `changeRecord`, which reads, transitions and writes conditionally.
 */
export function transition(record: JobRecord, event: JobEvent, now: Date): Transition {
  // A run ends at its outcome's time, not `now`: the one event on every job's path that needs no timestamp made.
  if (event.type === 'RunEnded') return runEnded(record, event);
  const at = isoTimestamp(now);
  switch (event.type) {
    case 'Claimed': {
      // A cycle the record has not seen yet starts afresh: no finish time or dead-letter reason of the last one.
      const fresh = event.cycle !== record.cycle;
      return ok({
        ...record,
        status: 'Running',
        cycle: event.cycle,
        attempt: event.attempt,
        deliveredAttempt: event.deliveredAttempt,
        startedAt: fresh ? at : (record.startedAt ?? at),
        completedAt: fresh ? null : record.completedAt,
        deadLetterReason: fresh ? null : record.deadLetterReason,
        deadLetterDescription: fresh ? null : record.deadLetterDescription,
        updatedAt: at,
        nextAttemptAt: null,
        claimedBy: event.workerId,
        claimExpiresAt: event.claimExpiresAt,
      });
    }
    case 'DeadLettered':
      if (isTerminalJobStatus(record.status)) return refused('Finished');
      return ok({
        ...record,
        status: 'DeadLettered',
        deadLetterReason: event.reason,
        deadLetterDescription: event.description,
        completedAt: at,
        updatedAt: at,
        nextAttemptAt: null,
        claimedBy: null,
        claimExpiresAt: null,
      });
    case 'CancelRequested': {
      if (isTerminalJobStatus(record.status)) return refused('Finished');
      const requested = { ...record, cancelRequestedAt: record.cancelRequestedAt ?? at, updatedAt: at };
      // A run whose claim has run out is over (the runner stops handlers at their timeout): nothing is left to stop.
      return ok(liveClaimExpiry(record, now) ? requested : cancelled(requested, at));
    }
    case 'CancelCompleted':
      if (isTerminalJobStatus(record.status)) return refused('Finished');
      return ok(cancelled(record, at));
    case 'ProgressReported':
      if (record.status !== 'Running' || record.claimedBy !== event.workerId) return refused('NotClaimed');
      return ok({ ...record, progress: event.progress, updatedAt: event.progress.at });
    case 'Replayed':
      if (record.status === 'Completed') return refused('Completed');
      if (liveClaimExpiry(record, now)) return refused('Running');
      // A new cycle, never one used before: its messages' ids are all new.
      return ok(
        withAction(
          {
            ...record,
            status: 'Queued',
            cycle: record.cycle + 1,
            attempt: 0,
            deliveredAttempt: null,
            deadLetterReason: null,
            deadLetterDescription: null,
            completedAt: null,
            nextAttemptAt: null,
            claimedBy: null,
            claimExpiresAt: null,
          },
          event.action,
        ),
      );
    case 'Discarded':
      return ok(withAction(record, event.action));
    case 'Restored':
      // The cycle stays used: a send that failed may have gone through, and its message ids must not come back.
      return ok({ ...event.previous, cycle: Math.max(event.previous.cycle, record.cycle) });
    case 'Touched':
      return ok({ ...record, updatedAt: at });
  }
}

function runEnded(record: JobRecord, event: Extract<JobEvent, { type: 'RunEnded' }>): Transition {
  // Another worker settled the job for good while this run went on (its claim had run out).
  if (isTerminalJobStatus(record.status)) return refused('Finished');
  const { outcome, next } = event;
  const ended: JobRecord = {
    ...record,
    status: next.status,
    progress: event.progress,
    completedAt: next.status === 'Retrying' ? record.completedAt : outcome.completedAt,
    lastOutcome: outcome,
    outcomes: withOutcome(record.outcomes, outcome),
    updatedAt: outcome.completedAt,
    nextAttemptAt: next.status === 'Retrying' ? next.nextAttemptAt : null,
    deadLetterReason: next.status === 'DeadLettered' ? next.reason : record.deadLetterReason,
    deadLetterDescription: next.status === 'DeadLettered' ? next.description : record.deadLetterDescription,
    claimedBy: null,
    claimExpiresAt: null,
  };
  return ok(ended.cancelRequestedAt ? cancelled(ended, outcome.completedAt) : ended);
}

/** Outcomes a record keeps, the latest: a record must fit one Table Storage property (32K characters). */
const maxOutcomesKept = 20;

function ok(record: JobRecord): Transition {
  return { ok: true, record };
}

function refused(refusal: Refusal): Transition {
  return { ok: false, refusal };
}

/** Finished, never to run again, claim released; no dead-letter decision kept, since nothing was dead-lettered. */
function cancelled(record: JobRecord, at: string): JobRecord {
  return {
    ...record,
    status: 'Cancelled',
    deadLetterReason: null,
    deadLetterDescription: null,
    completedAt: at,
    updatedAt: at,
    nextAttemptAt: null,
    claimedBy: null,
    claimExpiresAt: null,
  };
}

function withOutcome(outcomes: readonly JobOutcome[], outcome: JobOutcome): JobOutcome[] {
  return outcomes.length < maxOutcomesKept
    ? [...outcomes, outcome]
    : [...outcomes.slice(outcomes.length - maxOutcomesKept + 1), outcome];
}

function withAction(record: JobRecord, action: DeadLetterAction): JobRecord {
  return {
    ...record,
    updatedAt: action.at,
    deadLetterActions: [...record.deadLetterActions, action].slice(-maxDeadLetterActionsKept),
  };
}
