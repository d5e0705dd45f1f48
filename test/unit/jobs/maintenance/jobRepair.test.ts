import type {
  DeadLetteredAttempt,
  DeadLetterRepair,
  RecordRepair,
} from '../../../../src/jobs/maintenance/jobRepair';
import { deadLetterRepairOf, repairOf } from '../../../../src/jobs/maintenance/jobRepair';
import type { JobRecord } from '../../../../src/jobs/model/jobRecord';
import { jobRecordAt } from '../../../support/jobFixtures';

const now = new Date('2026-01-01T12:00:00.000Z');
const staleAfterMs = 60_000;
const longAgo = '2026-01-01T11:00:00.000Z';
const justNow = '2026-01-01T11:59:30.000Z';
const soon = '2026-01-01T12:01:00.000Z';

function record(overrides: Partial<JobRecord>): JobRecord {
  return { ...jobRecordAt('2026-01-01T10:00:00.000Z'), updatedAt: longAgo, ...overrides };
}

describe('repairOf', () => {
  it.each<[string, Partial<JobRecord>, RecordRepair]>([
    ['a job Queued for long is sent again', { status: 'Queued' }, { kind: 'resendFirst' }],
    ['a job Queued a moment ago is left alone', { status: 'Queued', updatedAt: justNow }, { kind: 'none' }],
    [
      'a retry long overdue is sent again',
      { status: 'Retrying', attempt: 2, nextAttemptAt: longAgo },
      { kind: 'resendRetry', attempt: 3 },
    ],
    [
      'a retry not yet due is left alone',
      { status: 'Retrying', attempt: 2, nextAttemptAt: soon },
      { kind: 'none' },
    ],
    [
      'a run whose claim ran out long ago is sent again',
      { status: 'Running', attempt: 1, claimExpiresAt: longAgo },
      { kind: 'resendRun' },
    ],
    [
      'a run whose claim holds is left alone',
      { status: 'Running', attempt: 1, claimExpiresAt: soon },
      { kind: 'none' },
    ],
    ['a completed job is left alone', { status: 'Completed' }, { kind: 'none' }],
    ['a dead-lettered job is left alone', { status: 'DeadLettered' }, { kind: 'none' }],
  ])('%s', (_, fields, expected) => {
    expect(repairOf(record(fields), now, staleAfterMs)).toEqual(expected);
  });
});

describe('deadLetterRepairOf', () => {
  const brokerDeadLettered: DeadLetteredAttempt = {
    cycle: 1,
    attempt: 2,
    reason: 'MaxDeliveryCountExceeded',
    description: 'Message could not be consumed after 10 delivery attempts.',
    repeated: false,
  };

  it.each<[string, Partial<JobRecord> | undefined, Partial<DeadLetteredAttempt>, DeadLetterRepair]>([
    [
      "the current attempt's message, dead-lettered by the broker, makes the record DeadLettered with its reason",
      { status: 'Running', attempt: 2, claimExpiresAt: longAgo },
      {},
      {
        kind: 'recordDeadLettered',
        reason: 'MaxDeliveryCountExceeded',
        description: 'Message could not be consumed after 10 delivery attempts.',
      },
    ],
    [
      'a reason the app does not know is kept in the description',
      { status: 'Retrying', attempt: 2 },
      { reason: 'SomethingElse', description: 'why' },
      { kind: 'recordDeadLettered', reason: 'MaxRetriesExceeded', description: 'SomethingElse: why' },
    ],
    [
      'a run still under a live claim is left to its worker',
      { status: 'Running', attempt: 2, claimExpiresAt: soon },
      {},
      { kind: 'none' },
    ],
    [
      'a copy of a completed job is removed',
      { status: 'Completed', attempt: 2 },
      {},
      { kind: 'remove', why: 'The job has completed.' },
    ],
    [
      'a copy of an attempt a later one replaced is removed',
      { status: 'Running', attempt: 3, claimExpiresAt: soon },
      {},
      { kind: 'remove', why: 'A later attempt of the job has replaced this message.' },
    ],
    [
      'the message whose redelivery ran the later attempt, dead-lettered by the broker, stands for the job: the record says so',
      { status: 'Running', attempt: 3, deliveredAttempt: 2, claimExpiresAt: longAgo },
      {},
      {
        kind: 'recordDeadLettered',
        reason: 'MaxDeliveryCountExceeded',
        description: 'Message could not be consumed after 10 delivery attempts.',
      },
    ],
    [
      'a copy from before a replay is removed',
      { status: 'Queued', cycle: 2, attempt: 0 },
      {},
      { kind: 'remove', why: 'A later attempt of the job has replaced this message.' },
    ],
    [
      'the one copy of a dead-lettered job stays',
      { status: 'DeadLettered', attempt: 2 },
      {},
      { kind: 'none' },
    ],
    [
      'the one copy of a dead-lettered job stays, even of an earlier attempt (a run cut short moved the record on)',
      { status: 'DeadLettered', attempt: 3 },
      {},
      { kind: 'none' },
    ],
    [
      'a second copy of a dead-lettered job is removed',
      { status: 'DeadLettered', attempt: 2 },
      { repeated: true },
      { kind: 'remove', why: 'The job is in the dead-letter queue already.' },
    ],
    ['a message with no record is left to operators', undefined, {}, { kind: 'none' }],
  ])('%s', (_, fields, message, expected) => {
    const stored = fields && record(fields);
    expect(deadLetterRepairOf(stored, { ...brokerDeadLettered, ...message }, now)).toEqual(expected);
  });
});
