import type { JobOutcome } from '../../../../src/jobs/model/jobOutcome';
import type { DeadLetterAction, JobRecord } from '../../../../src/jobs/model/jobRecord';
import type { JobEvent, Transition } from '../../../../src/jobs/model/jobTransitions';
import { transition } from '../../../../src/jobs/model/jobTransitions';
import { jobRecordAt } from '../../../support/jobFixtures';

const now = new Date('2026-01-01T12:00:00.000Z');
const at = now.toISOString();
const later = '2026-01-01T12:05:00.000Z';
const earlier = '2026-01-01T11:55:00.000Z';

const base = jobRecordAt('2026-01-01T11:00:00.000Z');

function record(overrides: Partial<JobRecord> = {}): JobRecord {
  return { ...base, ...overrides };
}

const running = { status: 'Running', attempt: 1, claimedBy: 'w1', claimExpiresAt: later } as const;

function outcome(status: JobOutcome['status'], attempt = 1): JobOutcome {
  return {
    jobId: record().jobId,
    jobType: 'diagnostics.simulate',
    status,
    durationMs: 5,
    errorMessage: status === 'Completed' ? null : 'boom',
    attempt,
    completedAt: at,
  };
}

const action: DeadLetterAction = {
  action: 'Replayed',
  at,
  sequenceNumber: '7',
  reason: 'Poisoned',
  payloadCorrected: false,
};

// [case, record before, event, the record's fields after (or the refusal)]
const table: Array<[string, Partial<JobRecord>, JobEvent, Partial<JobRecord> | { refusal: string }]> = [
  [
    'a claim makes the job Running for its worker, keeping the first start of the cycle',
    { status: 'Retrying', attempt: 1, startedAt: earlier, nextAttemptAt: earlier },
    { type: 'Claimed', cycle: 1, attempt: 2, deliveredAttempt: 2, workerId: 'w1', claimExpiresAt: later },
    {
      status: 'Running',
      attempt: 2,
      deliveredAttempt: 2,
      startedAt: earlier,
      nextAttemptAt: null,
      claimedBy: 'w1',
      claimExpiresAt: later,
      updatedAt: at,
    },
  ],
  [
    'a claim of a cycle the record has not seen starts it afresh',
    {
      status: 'DeadLettered',
      cycle: 1,
      attempt: 3,
      completedAt: earlier,
      deadLetterReason: 'Poisoned',
      deadLetterDescription: 'bad',
    },
    { type: 'Claimed', cycle: 2, attempt: 1, deliveredAttempt: 1, workerId: 'w1', claimExpiresAt: later },
    {
      status: 'Running',
      cycle: 2,
      attempt: 1,
      startedAt: at,
      completedAt: null,
      deadLetterReason: null,
      deadLetterDescription: null,
    },
  ],
  [
    'a run that completed ends the job Completed, its outcome kept, the claim released',
    running,
    { type: 'RunEnded', outcome: outcome('Completed'), progress: null, next: { status: 'Completed' } },
    {
      status: 'Completed',
      completedAt: at,
      lastOutcome: outcome('Completed'),
      outcomes: [outcome('Completed')],
      claimedBy: null,
      claimExpiresAt: null,
    },
  ],
  [
    'a run that failed with attempts left makes the job Retrying, due at the backoff',
    running,
    {
      type: 'RunEnded',
      outcome: outcome('Failed'),
      progress: null,
      next: { status: 'Retrying', nextAttemptAt: later },
    },
    {
      status: 'Retrying',
      nextAttemptAt: later,
      completedAt: null,
      outcomes: [outcome('Failed')],
      claimedBy: null,
    },
  ],
  [
    'a poisoned run dead-letters the job with its reason',
    running,
    {
      type: 'RunEnded',
      outcome: outcome('Poisoned'),
      progress: null,
      next: { status: 'DeadLettered', reason: 'Poisoned', description: 'bad' },
    },
    { status: 'DeadLettered', deadLetterReason: 'Poisoned', deadLetterDescription: 'bad', completedAt: at },
  ],
  [
    'a run that ends after a cancel was asked for ends the job Cancelled, whatever it came to, with no dead-letter reason',
    { ...running, cancelRequestedAt: earlier },
    {
      type: 'RunEnded',
      outcome: outcome('Poisoned'),
      progress: null,
      next: { status: 'DeadLettered', reason: 'Poisoned', description: 'bad' },
    },
    {
      status: 'Cancelled',
      deadLetterReason: null,
      deadLetterDescription: null,
      lastOutcome: outcome('Poisoned'),
      completedAt: at,
    },
  ],
  [
    'a run ending after another worker settled the job for good is refused',
    { status: 'Completed', attempt: 2 },
    { type: 'RunEnded', outcome: outcome('Completed'), progress: null, next: { status: 'Completed' } },
    { refusal: 'Finished' },
  ],
  [
    'a dead-letter without a run (no handler) finishes the job',
    { status: 'Queued' },
    { type: 'DeadLettered', reason: 'NoHandler', description: 'No handler for x.' },
    { status: 'DeadLettered', deadLetterReason: 'NoHandler', completedAt: at, claimedBy: null },
  ],
  [
    'the broker dead-lettering a finished job is refused',
    { status: 'Cancelled' },
    { type: 'DeadLettered', reason: 'MaxRetriesExceeded', description: 'MaxDeliveryCountExceeded' },
    { refusal: 'Finished' },
  ],
  [
    'a cancel of a queued job cancels it at once',
    { status: 'Queued' },
    { type: 'CancelRequested' },
    { status: 'Cancelled', cancelRequestedAt: at, completedAt: at },
  ],
  [
    'a cancel of a running job asks its run to stop; the job runs on until then',
    running,
    { type: 'CancelRequested' },
    { status: 'Running', cancelRequestedAt: at, claimedBy: 'w1' },
  ],
  [
    'a cancel of a run whose claim ran out cancels it at once: nothing is left to stop',
    { ...running, claimExpiresAt: earlier },
    { type: 'CancelRequested' },
    { status: 'Cancelled', claimedBy: null },
  ],
  [
    'a cancel of a finished job is refused',
    { status: 'Completed' },
    { type: 'CancelRequested' },
    { refusal: 'Finished' },
  ],
  [
    'a cancel completed once the run it was meant for is over',
    { ...running, claimExpiresAt: earlier, cancelRequestedAt: earlier },
    { type: 'CancelCompleted' },
    { status: 'Cancelled', cancelRequestedAt: earlier, completedAt: at },
  ],
  [
    'progress from the worker that holds the claim is kept',
    running,
    { type: 'ProgressReported', progress: { percent: 40, note: 'half', at }, workerId: 'w1' },
    { progress: { percent: 40, note: 'half', at }, status: 'Running' },
  ],
  [
    'progress from a worker whose claim was taken over is refused',
    { ...running, claimedBy: 'w2' },
    { type: 'ProgressReported', progress: { percent: 40, note: null, at }, workerId: 'w1' },
    { refusal: 'NotClaimed' },
  ],
  [
    'a replay starts the next cycle, Queued at attempt 0, its reason cleared and the action recorded',
    {
      status: 'DeadLettered',
      cycle: 2,
      attempt: 3,
      deliveredAttempt: 3,
      deadLetterReason: 'Poisoned',
      completedAt: earlier,
    },
    { type: 'Replayed', action },
    {
      status: 'Queued',
      cycle: 3,
      attempt: 0,
      deliveredAttempt: null,
      deadLetterReason: null,
      completedAt: null,
      deadLetterActions: [action],
    },
  ],
  [
    'a replay of a completed job is refused',
    { status: 'Completed' },
    { type: 'Replayed', action },
    { refusal: 'Completed' },
  ],
  ['a replay under a live claim is refused', running, { type: 'Replayed', action }, { refusal: 'Running' }],
  [
    'a discard is recorded with the job',
    { status: 'DeadLettered' },
    { type: 'Discarded', action: { ...action, action: 'Discarded' } },
    { status: 'DeadLettered', deadLetterActions: [{ ...action, action: 'Discarded' }] },
  ],
  [
    'a restore puts back the record before, keeping the cycle a failed replay used',
    { status: 'Queued', cycle: 3 },
    { type: 'Restored', previous: record({ status: 'DeadLettered', cycle: 2 }) },
    { status: 'DeadLettered', cycle: 3 },
  ],
  [
    "the reconciler's touch restarts the record's stale clock only",
    { status: 'Queued', updatedAt: earlier },
    { type: 'Touched' },
    { status: 'Queued', updatedAt: at },
  ],
];

describe('transition', () => {
  it.each(table)('%s', (_, before, event, expected) => {
    const result: Transition = transition(record(before), event, now);

    if ('refusal' in expected) {
      expect(result).toEqual({ ok: false, refusal: expected.refusal });
      return;
    }
    // The fields each case names, and the job's identity and submission untouched.
    expect(result).toMatchObject({ ok: true, record: expected });
    const { jobId, jobType, submittedAt, idempotencyKey } = base;
    expect(result.ok && result.record).toMatchObject({ jobId, jobType, submittedAt, idempotencyKey });
  });
});
