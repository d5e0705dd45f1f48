import type { JobOutcome } from '../../../../src/jobs/model/jobOutcome';
import type { JobStatsSnapshot } from '../../../../src/jobs/model/jobStats';
import {
  countableOutcome,
  countedOutcomeStatus,
  isDiscardedDeadLetter,
  jobStatsReport,
  minuteKey,
  minutesWindowStart,
} from '../../../../src/jobs/model/jobStats';
import type { JobRecord } from '../../../../src/jobs/model/jobRecord';
import type { JobEvent, RunNext } from '../../../../src/jobs/model/jobTransitions';
import { transition } from '../../../../src/jobs/model/jobTransitions';
import { jobRecordAt } from '../../../support/jobFixtures';

function ended(status: JobRecord['status'], completedAt: string): JobRecord {
  const record = jobRecordAt('2026-01-01T11:00:00Z');
  const outcome = {
    jobId: record.jobId,
    jobType: record.jobType,
    status: 'Failed' as const,
    durationMs: 1,
    errorMessage: 'boom',
    attempt: 2,
    completedAt,
  };
  return { ...record, status, attempt: 2, lastOutcome: outcome, outcomes: [outcome] };
}

/** Applies `events` in turn, each at its time, as the one writer of records does; fails on a refused event. */
function afterEvents(record: JobRecord, ...events: Array<[string, JobEvent]>): JobRecord {
  return events.reduce((current, [at, event]) => {
    const next = transition(current, event, new Date(at));
    if (!next.ok) throw new Error(`${event.type} refused: ${next.refusal}`);
    return next.record;
  }, record);
}

const claimed = (attempt: number): JobEvent => ({
  type: 'Claimed',
  cycle: 1,
  attempt,
  deliveredAttempt: attempt,
  workerId: 'worker-1',
  claimExpiresAt: '2026-01-01T13:00:00Z',
});

function runEnded(
  attempt: number,
  status: JobOutcome['status'],
  completedAt: string,
  next: RunNext = { status: 'Retrying', nextAttemptAt: '2026-01-01T11:10:00Z' },
): [string, JobEvent] {
  const outcome: JobOutcome = {
    jobId: 'job',
    jobType: 'diagnostics.simulate',
    status,
    durationMs: 1,
    errorMessage: status === 'Completed' ? null : 'The job was cancelled.',
    attempt,
    completedAt,
  };
  return [completedAt, { type: 'RunEnded', outcome, progress: null, next }];
}

const discardAction = (at: string): JobEvent => ({
  type: 'Discarded',
  action: { action: 'Discarded', at, sequenceNumber: '7', reason: 'Poisoned', payloadCorrected: false },
});

describe('job stats', () => {
  it.each([
    ['2026-01-01T12:34:56.789Z', '2026-01-01T12:34Z'],
    ['2026-01-01T12:34:00Z', '2026-01-01T12:34Z'],
    ['2026-01-01T14:34:59+02:00', '2026-01-01T12:34Z'],
  ])('puts %s in the minute %s (UTC)', (at, minute) => {
    expect(minuteKey(at)).toBe(minute);
  });

  it.each([
    ['a job with no outcome yet', jobRecordAt('2026-01-01T11:00:00Z'), false],
    [
      'a job running its next attempt (the last outcome was counted when it was written)',
      ended('Running', '2026-01-01T11:01:00Z'),
      false,
    ],
    ['a job waiting for a retry', ended('Retrying', '2026-01-01T11:01:00Z'), true],
    ['a dead-lettered job', ended('DeadLettered', '2026-01-01T11:01:00Z'), true],
  ])('counts the last outcome of %s: %s', (_, record, counted) => {
    expect(countableOutcome(record) !== undefined).toBe(counted);
  });

  it('identifies an attempt by its job, end and number, so writing the record again counts it once', () => {
    const record = ended('Retrying', '2026-01-01T11:01:00Z');

    expect(countableOutcome({ ...record, updatedAt: '2026-01-01T11:30:00Z', cycle: 2 })).toEqual(
      countableOutcome(record),
    );
    expect(countableOutcome(record)).toMatchObject({
      key: `${record.jobId}-${Date.parse('2026-01-01T11:01:00Z')}-2`,
      minute: '2026-01-01T11:01Z',
      status: 'Failed',
    });
  });

  const submitted = jobRecordAt('2026-01-01T11:00:00Z');
  const firstFailed = runEnded(1, 'Failed', '2026-01-01T11:01:00Z');

  it.each<[string, JobOutcome['status'] | 'Cancelled', JobRecord]>([
    [
      'the run a cancel stopped, recorded Failed',
      'Cancelled',
      afterEvents(
        submitted,
        ['2026-01-01T11:00:10Z', claimed(1)],
        ['2026-01-01T11:00:20Z', { type: 'CancelRequested' }],
        runEnded(1, 'Failed', '2026-01-01T11:00:21Z'),
      ),
    ],
    [
      'the run a cancel stopped, ending Poisoned',
      'Cancelled',
      afterEvents(
        submitted,
        ['2026-01-01T11:00:10Z', claimed(1)],
        ['2026-01-01T11:00:20Z', { type: 'CancelRequested' }],
        runEnded(1, 'Poisoned', '2026-01-01T11:00:21Z'),
      ),
    ],
    [
      'a run that completed although a cancel came',
      'Completed',
      afterEvents(
        submitted,
        ['2026-01-01T11:00:10Z', claimed(1)],
        ['2026-01-01T11:00:20Z', { type: 'CancelRequested' }],
        runEnded(1, 'Completed', '2026-01-01T11:00:21Z', { status: 'Completed' }),
      ),
    ],
    [
      'a failed run before a cancel that came while the job waited for its retry',
      'Failed',
      afterEvents(submitted, ['2026-01-01T11:00:10Z', claimed(1)], firstFailed, [
        '2026-01-01T11:02:00Z',
        { type: 'CancelRequested' },
      ]),
    ],
    [
      'a failed run of a job still retrying',
      'Failed',
      afterEvents(submitted, ['2026-01-01T11:00:10Z', claimed(1)], firstFailed),
    ],
  ])('counts the last attempt of %s as %s', (_, counted, record) => {
    expect(countedOutcomeStatus(record, record.lastOutcome!)).toBe(counted);
    expect(countableOutcome(record)?.status).toBe(counted);
  });

  it('counts the earlier attempts of a job whose last run a cancel stopped as they ended', () => {
    const record = afterEvents(
      submitted,
      ['2026-01-01T11:00:10Z', claimed(1)],
      firstFailed,
      ['2026-01-01T11:02:00Z', claimed(2)],
      ['2026-01-01T11:02:10Z', { type: 'CancelRequested' }],
      runEnded(2, 'Failed', '2026-01-01T11:02:11Z'),
    );

    expect(record.outcomes.map((outcome) => countedOutcomeStatus(record, outcome))).toEqual([
      'Failed',
      'Cancelled',
    ]);
  });

  const deadLettered = afterEvents(
    submitted,
    ['2026-01-01T11:00:10Z', claimed(1)],
    runEnded(1, 'Poisoned', '2026-01-01T11:00:20Z', {
      status: 'DeadLettered',
      reason: 'Poisoned',
      description: 'boom',
    }),
  );
  const replayed = afterEvents(deadLettered, [
    '2026-01-01T11:05:00Z',
    {
      type: 'Replayed',
      action: {
        action: 'Replayed',
        at: '2026-01-01T11:05:00Z',
        sequenceNumber: '7',
        reason: 'Poisoned',
        payloadCorrected: false,
      },
    },
  ]);

  it.each<[string, boolean, JobRecord]>([
    ['a dead-lettered job whose message is still in the queue', false, deadLettered],
    [
      'a dead-lettered job whose message was discarded',
      true,
      afterEvents(deadLettered, ['2026-01-01T11:05:00Z', discardAction('2026-01-01T11:05:00Z')]),
    ],
    ['a replayed job, queued again', false, replayed],
    [
      'a replayed job dead-lettered again, its new message not discarded',
      false,
      afterEvents(replayed, [
        '2026-01-01T11:06:00Z',
        { type: 'DeadLettered', reason: 'Poisoned', description: 'again' },
      ]),
    ],
  ])('counts %s as discarded: %s', (_, discarded, record) => {
    expect(isDiscardedDeadLetter(record)).toBe(discarded);
  });

  it('reports totals per status and a dense series ending with the current minute', () => {
    const snapshot: JobStatsSnapshot = {
      byJobType: { a: { Completed: 2, Queued: 1 }, b: { Completed: 1, DeadLettered: 4 } },
      jobsCounted: 8,
      jobsTruncated: false,
      deadLetteredDiscarded: 1,
      outcomesByMinute: { '2026-01-01T11:58Z': { completed: 3, failed: 1, cancelled: 2 } },
      outcomesTruncated: true,
    };
    const now = new Date('2026-01-01T12:00:59Z');

    const report = jobStatsReport(snapshot, {
      now,
      submittedSince: new Date('2026-01-01T00:00:00Z'),
      minutes: 3,
    });

    expect(report).toEqual({
      generatedAt: '2026-01-01T12:00:59.000Z',
      submittedSince: '2026-01-01T00:00:00.000Z',
      byStatus: { Completed: 3, Queued: 1, DeadLettered: 4 },
      byJobType: snapshot.byJobType,
      total: 8,
      deadLetteredDiscarded: 1,
      truncated: false,
      perMinute: [
        { minute: '2026-01-01T11:58Z', completed: 3, failed: 1, cancelled: 2 },
        { minute: '2026-01-01T11:59Z', completed: 0, failed: 0, cancelled: 0 },
        { minute: '2026-01-01T12:00Z', completed: 0, failed: 0, cancelled: 0 },
      ],
      perMinuteTruncated: true,
    });
    expect(minutesWindowStart(now, 3)).toEqual(new Date('2026-01-01T11:58:00Z'));
  });
});
