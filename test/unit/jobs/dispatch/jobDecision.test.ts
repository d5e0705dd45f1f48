import type { DeliveryDecision, HandlerVerdict, RunResult } from '../../../../src/jobs/dispatch/jobDecision';
import { decideAfterRun, decideDelivery } from '../../../../src/jobs/dispatch/jobDecision';
import type { JobRecord } from '../../../../src/jobs/model/jobRecord';
import { jobRecordAt } from '../../../support/jobFixtures';

const now = new Date('2026-01-01T12:00:00.000Z');
const later = '2026-01-01T12:05:00.000Z';
const earlier = '2026-01-01T11:55:00.000Z';
const runnable: HandlerVerdict = { ok: true };
const noHandler: HandlerVerdict = { ok: false, reason: 'NoHandler', description: 'No handler for x.' };

function record(overrides: Partial<JobRecord>): JobRecord {
  return { ...jobRecordAt('2026-01-01T11:00:00.000Z'), ...overrides };
}

describe('decideDelivery', () => {
  // [case, record, (cycle, attempt) of the message, maxAttempts, handler, decision]
  const table: Array<
    [string, Partial<JobRecord>, [number, number], number, HandlerVerdict, DeliveryDecision]
  > = [
    [
      'a queued job runs its first attempt',
      { status: 'Queued' },
      [1, 1],
      3,
      runnable,
      { kind: 'run', cycle: 1, attempt: 1 },
    ],
    [
      'a job with no handler is dead-lettered and recorded',
      { status: 'Queued' },
      [1, 1],
      3,
      noHandler,
      { kind: 'deadLetter', reason: 'NoHandler', description: 'No handler for x.', recordIt: true },
    ],
    [
      'the retry copy of a retrying job runs the next attempt',
      { status: 'Retrying', attempt: 1, nextAttemptAt: earlier },
      [1, 2],
      3,
      runnable,
      { kind: 'run', cycle: 1, attempt: 2 },
    ],
    [
      'the original of a retrying attempt makes sure of its retry copy, at the time recorded, and never runs',
      { status: 'Retrying', attempt: 1, nextAttemptAt: later },
      [1, 1],
      3,
      runnable,
      { kind: 'ensureRetry', cycle: 1, attempt: 2, at: new Date(later) },
    ],
    [
      'the original of an overdue retry schedules its copy now',
      { status: 'Retrying', attempt: 2, nextAttemptAt: earlier },
      [1, 2],
      3,
      runnable,
      { kind: 'ensureRetry', cycle: 1, attempt: 3, at: now },
    ],
    [
      'an older copy of a running job is superseded: the newer attempt has its own message',
      { status: 'Running', attempt: 2, claimedBy: 'w', claimExpiresAt: earlier },
      [1, 1],
      3,
      runnable,
      { kind: 'complete', why: 'Superseded' },
    ],
    [
      "an older copy of a running job is superseded, the run having been started by the newer attempt's message",
      { status: 'Running', attempt: 2, deliveredAttempt: 2, claimedBy: 'w', claimExpiresAt: earlier },
      [1, 1],
      3,
      runnable,
      { kind: 'complete', why: 'Superseded' },
    ],
    [
      'the message whose redelivery started the run comes back after that run was cut short: the next attempt runs (regression: it was taken for an older copy, and the job waited for the reconciler)',
      { status: 'Running', attempt: 2, deliveredAttempt: 1, claimedBy: 'w', claimExpiresAt: earlier },
      [1, 1],
      3,
      runnable,
      { kind: 'run', cycle: 1, attempt: 3 },
    ],
    [
      'the message whose redelivery started a run still claimed comes back: it looks again when the claim runs out',
      { status: 'Running', attempt: 2, deliveredAttempt: 1, claimedBy: 'w', claimExpiresAt: later },
      [1, 1],
      3,
      runnable,
      { kind: 'recheck', at: new Date(later) },
    ],
    [
      'an older copy of a retrying job makes sure of the pending retry copy, and never runs',
      { status: 'Retrying', attempt: 2, nextAttemptAt: later },
      [1, 1],
      3,
      runnable,
      { kind: 'ensureRetry', cycle: 1, attempt: 3, at: new Date(later) },
    ],
    [
      'a dead-lettered job whose attempt moved on under the same message (a run cut short) is dead-lettered again',
      { status: 'DeadLettered', attempt: 2, deadLetterReason: 'Poisoned', deadLetterDescription: 'bad' },
      [1, 1],
      3,
      runnable,
      { kind: 'deadLetter', reason: 'Poisoned', description: 'bad', recordIt: false },
    ],
    [
      'the same, the record saying which message ran last: that message is dead-lettered again',
      {
        status: 'DeadLettered',
        attempt: 2,
        deliveredAttempt: 1,
        deadLetterReason: 'Poisoned',
        deadLetterDescription: 'bad',
      },
      [1, 1],
      3,
      runnable,
      { kind: 'deadLetter', reason: 'Poisoned', description: 'bad', recordIt: false },
    ],
    [
      'an older attempt of a dead-lettered job, its retry copy run since, is completed: one copy in the dead-letter queue',
      {
        status: 'DeadLettered',
        attempt: 2,
        deliveredAttempt: 2,
        deadLetterReason: 'MaxRetriesExceeded',
        deadLetterDescription: 'Failed 2 of 2 attempts',
      },
      [1, 1],
      2,
      runnable,
      { kind: 'complete', why: 'Superseded' },
    ],
    [
      'the dead-lettered attempt itself, redelivered in host settlement, is dead-lettered again as recorded',
      { status: 'DeadLettered', attempt: 3, deadLetterReason: 'Poisoned', deadLetterDescription: 'bad' },
      [1, 3],
      3,
      runnable,
      { kind: 'deadLetter', reason: 'Poisoned', description: 'bad', recordIt: false },
    ],
    [
      'a completed job completes any copy',
      { status: 'Completed', attempt: 1 },
      [1, 1],
      3,
      runnable,
      { kind: 'complete', why: 'AlreadyCompleted' },
    ],
    [
      'a message of an earlier cycle is superseded by a replay',
      { status: 'Queued', cycle: 2, attempt: 0 },
      [1, 3],
      3,
      runnable,
      { kind: 'complete', why: 'Superseded' },
    ],
    [
      'a replay runs attempt 1 of its cycle',
      { status: 'Queued', cycle: 2, attempt: 0 },
      [2, 1],
      3,
      runnable,
      { kind: 'run', cycle: 2, attempt: 1 },
    ],
    [
      'a cycle the record has not seen starts it, even on a dead-lettered record',
      { status: 'DeadLettered', cycle: 1, attempt: 3, deadLetterReason: 'Poisoned' },
      [2, 1],
      3,
      runnable,
      { kind: 'run', cycle: 2, attempt: 1 },
    ],
    [
      'a live claim of another worker is looked at again when it runs out',
      { status: 'Running', attempt: 1, claimedBy: 'w', claimExpiresAt: later },
      [1, 1],
      3,
      runnable,
      { kind: 'recheck', at: new Date(later) },
    ],
    [
      'a run cut short (claim expired) counts: its redelivery is the next attempt',
      { status: 'Running', attempt: 1, claimedBy: 'w', claimExpiresAt: earlier },
      [1, 1],
      3,
      runnable,
      { kind: 'run', cycle: 1, attempt: 2 },
    ],
    [
      'a run cut short on the last attempt leaves none: dead-lettered as MaxRetriesExceeded',
      { status: 'Running', attempt: 3, claimedBy: 'w', claimExpiresAt: earlier },
      [1, 3],
      3,
      runnable,
      {
        kind: 'deadLetter',
        reason: 'MaxRetriesExceeded',
        description: 'No attempts left: this would be attempt 4 of 3.',
        recordIt: true,
      },
    ],
    [
      'a cancelled job completes its message without running: the original',
      { status: 'Cancelled', attempt: 0 },
      [1, 1],
      3,
      runnable,
      { kind: 'complete', why: 'Cancelled' },
    ],
    [
      'a cancelled job completes its retry copy scheduled before the cancel',
      { status: 'Cancelled', attempt: 1 },
      [1, 2],
      3,
      runnable,
      { kind: 'complete', why: 'Cancelled' },
    ],
    [
      'a cancelled job completes even a message of a cycle it has not seen',
      { status: 'Cancelled', attempt: 1 },
      [2, 1],
      3,
      runnable,
      { kind: 'complete', why: 'Cancelled' },
    ],
    [
      'a running job whose cancel was asked for is looked at again while its claim holds',
      { status: 'Running', attempt: 1, claimedBy: 'w', claimExpiresAt: later, cancelRequestedAt: earlier },
      [1, 1],
      3,
      runnable,
      { kind: 'recheck', at: new Date(later) },
    ],
    [
      'a running job whose cancel was asked for, and whose worker died, is cancelled, not run again',
      { status: 'Running', attempt: 1, claimedBy: 'w', claimExpiresAt: earlier, cancelRequestedAt: earlier },
      [1, 1],
      3,
      runnable,
      { kind: 'cancel' },
    ],
  ];

  it.each(table)('%s', (_, fields, [cycle, attempt], maxAttempts, handler, expected) => {
    expect(decideDelivery(record(fields), { cycle, attempt, maxAttempts }, handler, now)).toEqual(expected);
  });

  it("takes over a live claim whose worker is known to be gone (this app's earlier start), as the next attempt", () => {
    const claimed = record({ status: 'Running', attempt: 1, claimedBy: 'host:1:old', claimExpiresAt: later });

    expect(decideDelivery(claimed, { cycle: 1, attempt: 1, maxAttempts: 3 }, runnable, now, true)).toEqual({
      kind: 'run',
      cycle: 1,
      attempt: 2,
    });
  });
});

describe('decideAfterRun', () => {
  const retry = { baseDelayMs: 1_000, maxDelayMs: 60_000, jitter: 0 };
  const failed: RunResult = {
    status: 'Failed',
    error: 'flaky',
    cause: undefined,
    interruptedByShutdown: false,
  };

  it.each<[string, RunResult, number, ReturnType<typeof decideAfterRun>]>([
    ['a completed run completes', { status: 'Completed' }, 1, { kind: 'complete' }],
    [
      'a poisoned run is dead-lettered at once',
      { status: 'Poisoned', error: 'bad', cause: undefined, interruptedByShutdown: false },
      1,
      { kind: 'deadLetter', reason: 'Poisoned', description: 'bad' },
    ],
    [
      'a failed run retries after the backoff',
      failed,
      2,
      { kind: 'retry', at: new Date(now.getTime() + 2_000), delayMs: 2_000, error: 'flaky' },
    ],
    [
      'a failed last attempt is dead-lettered as MaxRetriesExceeded',
      failed,
      3,
      {
        kind: 'deadLetter',
        reason: 'MaxRetriesExceeded',
        description: 'Failed 3 of 3 attempts; last error: flaky',
      },
    ],
    [
      'a run that asked to be retried later (RetryLaterError) retries after its delay, not the backoff',
      { ...failed, retryAfterMs: 7_500 },
      1,
      { kind: 'retry', at: new Date(now.getTime() + 7_500), delayMs: 7_500, error: 'flaky' },
    ],
    [
      "a retry-after longer than the type's maximum delay waits the maximum",
      { ...failed, retryAfterMs: 3_600_000 },
      1,
      { kind: 'retry', at: new Date(now.getTime() + 60_000), delayMs: 60_000, error: 'flaky' },
    ],
    [
      'a retry-after on the last attempt still counts: MaxRetriesExceeded',
      { ...failed, retryAfterMs: 1_000 },
      3,
      {
        kind: 'deadLetter',
        reason: 'MaxRetriesExceeded',
        description: 'Failed 3 of 3 attempts; last error: flaky',
      },
    ],
    [
      'a run cut short by shutdown goes back to the queue',
      { ...failed, interruptedByShutdown: true },
      1,
      { kind: 'abandon', error: 'flaky' },
    ],
  ])('%s', (_, result, attempt, expected) => {
    expect(decideAfterRun(result, attempt, 3, retry, now, () => 0.5)).toEqual(expected);
  });
});
