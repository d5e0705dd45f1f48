import { jobIdForKey } from '../../src/jobs/submission/jobIdForKey';
import type { JobOutcome } from '../../src/jobs/model/jobOutcome';
import { newJobMessage } from '../../src/jobs/model/jobMessage';
import type { JobRecord } from '../../src/jobs/model/jobRecord';
import { newJobRecord } from '../../src/jobs/model/jobRecord';
import type { BrokerMessage, BrokerSnapshot } from '../../tools/soak/brokerProbe';
import type { ViolationClass } from '../../tools/soak/checkInvariants';
import { checkInvariants } from '../../tools/soak/checkInvariants';
import type { JobKind, PlannedJob, SimulatePayload } from '../../tools/soak/planWorkload';
import type { HandlerCompletions } from '../../tools/soak/readHandlerCompletions';
import type { FaultEvent } from '../../tools/soak/faults';
import type { JobAppEvents } from '../../tools/soak/readAppEvents';
import type { JobSubmissions } from '../../tools/soak/runWorkload';
import type { SubmitTry } from '../../tools/soak/submitWithRetries';

const submittedAt = '2026-12-01T10:00:00.000Z';
const completedAt = '2026-12-01T10:00:05.000Z';
const key = 'soak-1';
const jobId = jobIdForKey(key);

function planned(kind: JobKind, payload: SimulatePayload = {}, maxAttempts = 3): PlannedJob {
  return { index: 0, key, jobId, kind, payload, maxAttempts, request: {} };
}

const accepted: SubmitTry[] = [{ kind: 'answered', status: 202, body: { jobId } }];
const refused: SubmitTry[] = [{ kind: 'answered', status: 503, body: {} }];

function outcome(
  attempt: number,
  status: JobOutcome['status'],
  errorMessage: string | null = null,
): JobOutcome {
  return {
    jobId,
    jobType: 'diagnostics.simulate',
    status,
    durationMs: 1,
    errorMessage,
    attempt,
    completedAt,
  };
}

// Built by the app's own constructor, so the fixture follows the record's shape as it changes.
function record(overrides: Partial<JobRecord>): JobRecord {
  const queued = newJobRecord(
    newJobMessage({
      jobType: 'diagnostics.simulate',
      payload: {},
      jobId,
      idempotencyKey: key,
      createdAt: submittedAt,
    }),
    submittedAt,
  );
  return {
    ...queued,
    status: 'Completed',
    attempt: 1,
    startedAt: submittedAt,
    completedAt,
    updatedAt: completedAt,
    outcomes: [outcome(1, 'Completed')],
    ...overrides,
  };
}

function deadLetter(reason: string, messageId = key): BrokerMessage {
  return {
    jobId,
    messageId,
    sequenceNumber: '1',
    state: 'active',
    deliveryCount: 0,
    deadLetterReason: reason,
  };
}

interface Case {
  name: string;
  job: PlannedJob;
  tries?: SubmitTry[];
  record?: JobRecord;
  broker?: Partial<BrokerSnapshot>;
  completions?: HandlerCompletions;
  killedAt?: number[];
  faults?: FaultEvent[];
  appEvents?: JobAppEvents;
  settlement?: 'host' | 'explicit';
  /** The client's cancel of the job, every try. */
  cancels?: SubmitTry[];
  expected: ViolationClass[];
}

const cancelAnswered = (status: number, attempt: number): SubmitTry[] => [
  { kind: 'answered', status, body: { jobId, status: status === 200 ? 'Cancelled' : 'Running', attempt } },
];

const failedTwiceThenDeadLettered = record({
  status: 'DeadLettered',
  attempt: 3,
  outcomes: [outcome(1, 'Failed', 'Simulated transient failure 1 of 2.'), outcome(2, 'Failed')],
  deadLetterReason: 'MaxRetriesExceeded',
});

const at = (time: string) => Date.parse(`2026-12-01T10:${time}.000Z`);
const fault = (kind: FaultEvent['kind'], from: string, to: string): FaultEvent => ({
  kind,
  atMs: 0,
  durationMs: at(to) - at(from),
  startedAt: at(from),
  endedAt: at(to),
});
const triedAt = (status: number, from: string, to: string): SubmitTry[] => [
  { kind: 'answered', status, body: status < 300 ? { jobId } : {}, sentAt: at(from), endedAt: at(to) },
];
const acceptedThenRefusedAt = (from: string): SubmitTry[] => [
  ...triedAt(503, from, from),
  ...triedAt(202, '00:04', '00:04'),
];

const cases: Case[] = [
  {
    name: 'a submission answered 503 with nothing down',
    job: planned('quick'),
    record: record({}),
    tries: acceptedThenRefusedAt('00:01'),
    expected: ['serverErrors'],
  },
  {
    name: 'a submission answered 503 while storage was cut',
    job: planned('quick'),
    record: record({}),
    tries: acceptedThenRefusedAt('00:01'),
    faults: [fault('cutStorage', '00:00', '00:02')],
    expected: [],
  },
  {
    name: 'a submission answered 503 while only the broker was cut',
    job: planned('quick'),
    record: record({}),
    tries: acceptedThenRefusedAt('00:01'),
    faults: [fault('cutBroker', '00:00', '00:02')],
    expected: ['serverErrors'],
  },
  {
    name: 'a job accepted during a broker outage and sent 2 s after it ended',
    job: planned('quick'),
    record: record({}),
    tries: triedAt(202, '00:01', '00:01'),
    faults: [fault('cutBroker', '00:00', '00:30')],
    appEvents: { held: true, heldSentAt: at('00:32'), repairedAt: [] },
    expected: [],
  },
  {
    name: 'a job accepted during a broker outage and sent 15 s after it ended',
    job: planned('quick'),
    record: record({}),
    tries: triedAt(202, '00:01', '00:01'),
    faults: [fault('cutBroker', '00:00', '00:30')],
    appEvents: { held: true, heldSentAt: at('00:45'), repairedAt: [] },
    expected: ['heldPastOutage'],
  },
  {
    name: 'a job held for the broker during an outage and never sent by the app',
    job: planned('quick'),
    record: record({}),
    tries: triedAt(202, '00:01', '00:01'),
    faults: [fault('cutBroker', '00:00', '00:30')],
    appEvents: { held: true, heldSentAt: undefined, repairedAt: [at('00:50')] },
    expected: ['heldPastOutage'],
  },
  {
    name: 'a job accepted during a broker outage whose submission sent it at once, later repaired by the reconciler',
    job: planned('quick'),
    record: record({}),
    tries: triedAt(202, '00:01', '00:01'),
    faults: [fault('blackHoleBroker', '00:00', '00:02')],
    appEvents: { held: false, heldSentAt: undefined, repairedAt: [at('00:50')] },
    expected: [],
  },
  {
    name: 'the same, when the app was killed before the broker came back',
    job: planned('quick'),
    record: record({}),
    tries: triedAt(202, '00:01', '00:01'),
    faults: [fault('cutBroker', '00:00', '00:30'), fault('killApp', '00:20', '00:21')],
    appEvents: { held: true, heldSentAt: undefined, repairedAt: [at('00:50')] },
    expected: [],
  },
  { name: 'a quick job completed once', job: planned('quick'), record: record({}), expected: [] },
  {
    name: 'a job cancelled while queued that never ran',
    job: planned('slow', { durationMs: 300 }),
    record: record({ status: 'Cancelled', attempt: 0, outcomes: [] }),
    cancels: cancelAnswered(200, 0),
    expected: [],
  },
  {
    name: 'a job cancelled while running that ended Cancelled after that run',
    job: planned('slow', { durationMs: 300 }),
    record: record({
      status: 'Cancelled',
      attempt: 1,
      outcomes: [outcome(1, 'Failed', 'The job was cancelled.')],
    }),
    cancels: cancelAnswered(202, 1),
    expected: [],
  },
  {
    name: 'a job whose cancel came too late (409) and that completed',
    job: planned('quick'),
    record: record({}),
    cancels: [{ kind: 'answered', status: 409, body: { jobStatus: 'Completed' } }],
    expected: [],
  },
  {
    name: 'a job that ran again after its cancel was accepted',
    job: planned('failTimes', { failTimes: 1 }),
    record: record({
      status: 'Cancelled',
      attempt: 2,
      outcomes: [outcome(1, 'Failed', 'Simulated transient failure 1 of 1.'), outcome(2, 'Completed')],
    }),
    cancels: cancelAnswered(200, 1),
    expected: ['cancelBroken'],
  },
  {
    name: 'a job whose cancel was accepted but that completed',
    job: planned('slow', { durationMs: 300 }),
    record: record({}),
    cancels: cancelAnswered(202, 1),
    expected: ['cancelBroken'],
  },
  {
    name: 'a refused job with a Cancelled record, even with a cancel accepted (a refusal commits nothing)',
    job: planned('quick'),
    tries: refused,
    record: record({ status: 'Cancelled', attempt: 0, outcomes: [] }),
    cancels: cancelAnswered(200, 0),
    expected: ['refusedButRecorded'],
  },
  {
    name: 'a job whose only answer was a 503 saying the commit may have applied, recorded and completed',
    job: planned('quick'),
    tries: [{ kind: 'answered', status: 503, body: { outcome: 'unknown' } }],
    record: record({}),
    expected: [],
  },
  {
    name: 'a refused job with a Cancelled record but no cancel accepted',
    job: planned('quick'),
    tries: refused,
    record: record({ status: 'Cancelled', attempt: 0, outcomes: [] }),
    expected: ['refusedButRecorded'],
  },
  {
    name: 'a job whose cancel answered 503, applied all the same, then 409 naming it Cancelled',
    job: planned('quick'),
    record: record({ status: 'Cancelled', attempt: 0, outcomes: [] }),
    cancels: [
      { kind: 'answered', status: 503, body: {} },
      { kind: 'answered', status: 409, body: { jobStatus: 'Cancelled' } },
    ],
    expected: [],
  },
  {
    name: 'a job Cancelled without any cancel accepted',
    job: planned('quick'),
    record: record({ status: 'Cancelled', attempt: 0, outcomes: [] }),
    expected: ['cancelBroken'],
  },
  {
    name: 'a poison job dead-lettered Poisoned, once in the sub-queue',
    job: planned('poison', { poison: true }),
    record: record({
      status: 'DeadLettered',
      outcomes: [outcome(1, 'Poisoned')],
      deadLetterReason: 'Poisoned',
    }),
    broker: { deadLettered: [deadLetter('Poisoned')] },
    settlement: 'explicit',
    expected: [],
  },
  { name: 'an accepted job without a record', job: planned('quick'), expected: ['lost'] },
  {
    name: 'an accepted job still queued',
    job: planned('quick'),
    record: record({ status: 'Queued', attempt: 0, outcomes: [] }),
    expected: ['stuck'],
  },
  {
    name: 'a refused job that has a record',
    job: planned('quick'),
    tries: refused,
    record: record({}),
    expected: ['refusedButRecorded'],
  },
  { name: 'a refused job that left nothing', job: planned('quick'), tries: refused, expected: [] },
  {
    name: 'a job with more attempts than allowed',
    job: planned('quick'),
    record: record({ attempt: 4, outcomes: [outcome(4, 'Completed')] }),
    expected: ['duplicateRuns'],
  },
  {
    name: 'two requests with one key were both told the job was created',
    job: planned('quick'),
    tries: [...accepted, ...accepted],
    record: record({}),
    expected: ['mismatches'],
  },
  {
    name: 'a job whose handler succeeded after another run had settled it',
    job: planned('quick'),
    record: record({}),
    completions: { byProcess: [2], afterSettledElsewhere: 1 },
    expected: ['duplicateRuns'],
  },
  {
    name: 'a dead-lettered record missing from the sub-queue',
    job: planned('failAlways', { failAlways: true }, 1),
    record: record({
      status: 'DeadLettered',
      maxAttempts: 1,
      outcomes: [outcome(1, 'Failed')],
      deadLetterReason: 'MaxRetriesExceeded',
    }),
    expected: ['mismatches'],
  },
  {
    name: 'two dead-letter copies of one job',
    job: planned('poison', { poison: true }),
    record: record({
      status: 'DeadLettered',
      outcomes: [outcome(1, 'Poisoned')],
      deadLetterReason: 'Poisoned',
    }),
    broker: {
      deadLettered: [deadLetter('MaxDeliveryCountExceeded'), deadLetter('MaxDeliveryCountExceeded', 'b')],
    },
    expected: ['mismatches'],
  },
  {
    name: 'a dead-letter message for a job whose record is still Retrying',
    job: planned('failTimes', { failTimes: 1 }),
    record: record({ status: 'Retrying', outcomes: [outcome(1, 'Failed')], completedAt: null }),
    broker: { deadLettered: [deadLetter('MaxDeliveryCountExceeded')] },
    expected: ['stuck', 'mismatches'],
  },
  {
    name: 'a quick job dead-lettered',
    job: planned('quick'),
    record: record({
      status: 'DeadLettered',
      attempt: 3,
      outcomes: [],
      deadLetterReason: 'MaxRetriesExceeded',
    }),
    broker: { deadLettered: [deadLetter('MaxDeliveryCountExceeded')] },
    expected: ['mismatches'],
  },
  {
    name: 'a failTimes job with attempts to spare that ran out of them with no restart',
    job: planned('failTimes', { failTimes: 2 }),
    record: failedTwiceThenDeadLettered,
    broker: { deadLettered: [deadLetter('MaxDeliveryCountExceeded')] },
    expected: ['mismatches'],
  },
  {
    name: 'the same, when the app was killed during its third run',
    job: planned('failTimes', { failTimes: 2 }),
    record: failedTwiceThenDeadLettered,
    broker: { deadLettered: [deadLetter('MaxDeliveryCountExceeded')] },
    killedAt: [Date.parse('2026-12-01T10:00:03.000Z')],
    expected: [],
  },
  {
    name: 'an explicit dead-letter whose broker reason differs from the record',
    job: planned('poison', { poison: true }),
    record: record({
      status: 'DeadLettered',
      outcomes: [outcome(1, 'Poisoned')],
      deadLetterReason: 'Poisoned',
    }),
    broker: { deadLettered: [deadLetter('MaxDeliveryCountExceeded')] },
    settlement: 'explicit',
    expected: ['mismatches'],
  },
];

describe('the soak invariants', () => {
  it.each(cases)('when $name, then it is counted as $expected', (testCase) => {
    const job = testCase.job;
    const tries = testCase.tries ?? accepted;
    const answers = tries.flatMap((attempt) =>
      attempt.kind === 'answered' && attempt.status < 300 ? [{ jobId, created: attempt.status === 202 }] : [],
    );
    const submissions: JobSubmissions = {
      job,
      sentAs: 'single×1',
      tries,
      answers,
      cancels: testCase.cancels ?? [],
    };

    const report = checkInvariants({
      settlement: testCase.settlement ?? 'host',
      submissions: new Map([[key, submissions]]),
      records: new Map([[jobId, testCase.record]]),
      broker: { queued: [], deadLettered: [], ...testCase.broker },
      completions: new Map(testCase.completions ? [[jobId, testCase.completions]] : []),
      killedAt: testCase.killedAt ?? [],
      faults: testCase.faults ?? [],
      appEvents: new Map(testCase.appEvents ? [[jobId, testCase.appEvents]] : []),
      now: Date.parse(completedAt),
    });

    expect(report.violations.map((violation) => violation.class).sort()).toEqual(
      [...testCase.expected].sort(),
    );
  });
});
