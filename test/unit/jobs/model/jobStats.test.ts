import type { JobStatsSnapshot } from '../../../../src/jobs/model/jobStats';
import {
  countableOutcome,
  jobStatsReport,
  minuteKey,
  minutesWindowStart,
} from '../../../../src/jobs/model/jobStats';
import type { JobRecord } from '../../../../src/jobs/model/jobRecord';
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

  it('reports totals per status and a dense series ending with the current minute', () => {
    const snapshot: JobStatsSnapshot = {
      byJobType: { a: { Completed: 2, Queued: 1 }, b: { Completed: 1, DeadLettered: 4 } },
      jobsCounted: 8,
      jobsTruncated: false,
      outcomesByMinute: { '2026-01-01T11:58Z': { completed: 3, failed: 1 } },
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
      truncated: false,
      perMinute: [
        { minute: '2026-01-01T11:58Z', completed: 3, failed: 1 },
        { minute: '2026-01-01T11:59Z', completed: 0, failed: 0 },
        { minute: '2026-01-01T12:00Z', completed: 0, failed: 0 },
      ],
      perMinuteTruncated: true,
    });
    expect(minutesWindowStart(now, 3)).toEqual(new Date('2026-01-01T11:58:00Z'));
  });
});
