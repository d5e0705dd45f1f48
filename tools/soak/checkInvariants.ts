import type { JobRecord } from '../../src/jobs/model/jobRecord';
import { isTerminalJobStatus } from '../../src/jobs/model/jobRecord';
import type { BrokerMessage, BrokerSnapshot } from './brokerProbe';
import { byJobId } from './brokerProbe';
import type { FaultEvent } from './faults';
import type { PlannedJob } from './planWorkload';
import type { JobAppEvents } from './readAppEvents';
import type { HandlerCompletions } from './readHandlerCompletions';
import type { ClientVerdict, JobSubmissions } from './runWorkload';
import type { SubmitTry } from './submitWithRetries';
import { clientVerdict } from './runWorkload';

/**
 * The ways a job can go wrong, each counted on its own:
 * - `stuck`: it has a record that is not terminal (Completed, DeadLettered or Cancelled) once everything has gone
 *   quiet;
 * - `lost`: a client was told it was accepted, yet it has no record;
 * - `duplicateRuns`: more runs than allowed or than recorded (attempt over maxAttempts, repeated or extra outcomes,
 *   a second successful run);
 * - `mismatches`: an end that its payload rules out, a record and a broker that disagree (the dead-letter
 *   sub-queue must hold each dead-lettered job once, and nothing else), or answers that disagree with each other
 *   (another jobId than the key names, "created" told to more than one request);
 * - `refusedButRecorded`: every submission was refused (nothing committed), yet the job exists or ran;
 * - `cancelBroken`: a cancel was accepted yet the job did not end Cancelled, or a run started after it, or the job
 *   ended Cancelled with no cancel accepted;
 * - `serverErrors`: a request about it was answered 5xx while no storage fault and no app restart was under way (a
 *   broker outage alone refuses nothing: the record is the promise);
 * - `heldPastOutage`: it was accepted during a broker outage, and its message reached the broker more than
 *   {@link heldSendGraceMs} after the broker was back (or only through the reconciler, with no app restart to explain
 *   it).
 */
export type ViolationClass =
  | 'stuck'
  | 'lost'
  | 'duplicateRuns'
  | 'mismatches'
  | 'refusedButRecorded'
  | 'cancelBroken'
  | 'serverErrors'
  | 'heldPastOutage';

export const violationClasses: readonly ViolationClass[] = [
  'stuck',
  'lost',
  'duplicateRuns',
  'mismatches',
  'refusedButRecorded',
  'cancelBroken',
  'serverErrors',
  'heldPastOutage',
];

/** How soon after a broker outage ends a job accepted during it must reach the broker. */
export const heldSendGraceMs = 10_000;
/** How long after a storage fault or an app restart ends a 5xx is still its doing: a call's budget, and retries. */
const faultAftermathMs = 15_000;

/** One job's problems of one class, with what is needed to look into them. */
export interface Violation {
  readonly class: ViolationClass;
  readonly jobId: string;
  readonly key: string | undefined;
  readonly kind: PlannedJob['kind'] | 'unknown';
  readonly verdict: ClientVerdict | undefined;
  /** How it was sent, and every HTTP try that carried it, as the clients saw them. */
  readonly sentAs: string;
  readonly tries: readonly SubmitTry[];
  readonly reasons: readonly string[];
  readonly record: JobRecord | undefined;
  readonly queued: readonly BrokerMessage[];
  readonly deadLettered: readonly BrokerMessage[];
}

export interface InvariantInput {
  readonly settlement: 'host' | 'explicit';
  readonly submissions: ReadonlyMap<string, JobSubmissions>;
  /** Every planned job's record by jobId; undefined when the app answered 404. */
  readonly records: ReadonlyMap<string, JobRecord | undefined>;
  readonly broker: BrokerSnapshot;
  readonly completions: ReadonlyMap<string, HandlerCompletions>;
  /** When the app was killed (wall clock): a run cut short, and the handler's own failure counter reset. */
  readonly killedAt: readonly number[];
  /** Every fault as it happened (wall clock), for the checks that depend on what was down when. */
  readonly faults?: readonly FaultEvent[];
  /** What the app's logs say of each job's sends after a broker outage and its repairs by the reconciler. */
  readonly appEvents?: ReadonlyMap<string, JobAppEvents>;
  readonly now: number;
}

export interface SoakTotals {
  jobs: number;
  accepted: number;
  refused: number;
  indeterminate: number;
  completed: number;
  deadLettered: number;
  cancelled: number;
  deadLetterMessages: number;
  /** How the jobs of each kind ended: `kind → status[ reason] → jobs` (`none` for jobs without a record). */
  endings: Record<string, Record<string, number>>;
  /** Jobs the reconciler repaired: the backstop for a dead instance, not the path a job normally takes. */
  reconcilerRepairs: number;
  /** Jobs accepted during a broker outage, and the longest any of them took to reach the broker once it was back. */
  acceptedDuringOutage: number;
  longestHeldAfterOutageMs: number;
  /** The longest time from the end of the last fault to a job's last record write, when it ended after it. */
  longestAfterLastFaultMs: number;
}

export interface InvariantReport {
  readonly counts: Record<ViolationClass, number>;
  readonly violations: readonly Violation[];
  readonly totals: SoakTotals;
}

/** Checks every job against what its clients were told, its payload, its record and the broker. */
export function checkInvariants(input: InvariantInput): InvariantReport {
  const deadLetteredByJob = byJobId(input.broker.deadLettered);
  const queuedByJob = byJobId(input.broker.queued);
  const violations: Violation[] = [];
  const totals: SoakTotals = {
    jobs: input.submissions.size,
    accepted: 0,
    refused: 0,
    indeterminate: 0,
    completed: 0,
    deadLettered: 0,
    cancelled: 0,
    deadLetterMessages: input.broker.deadLettered.length,
    endings: {},
    reconcilerRepairs: 0,
    acceptedDuringOutage: 0,
    longestHeldAfterOutageMs: 0,
    longestAfterLastFaultMs: 0,
  };
  const faults = input.faults ?? [];
  const lastFaultEnd = Math.max(0, ...faults.map((fault) => fault.endedAt));
  const plannedIds = new Set<string>();
  for (const submissions of input.submissions.values()) {
    const { job } = submissions;
    plannedIds.add(job.jobId);
    const verdict = clientVerdict(submissions);
    totals[verdict] += 1;
    const record = input.records.get(job.jobId);
    if (record?.status === 'Completed') totals.completed += 1;
    if (record?.status === 'DeadLettered') totals.deadLettered += 1;
    if (record?.status === 'Cancelled') totals.cancelled += 1;
    const events = input.appEvents?.get(job.jobId);
    if (events && events.repairedAt.length > 0) totals.reconcilerRepairs += 1;
    if (record && lastFaultEnd > 0 && isTerminalJobStatus(record.status))
      totals.longestAfterLastFaultMs = Math.max(
        totals.longestAfterLastFaultMs,
        Date.parse(record.updatedAt) - lastFaultEnd,
      );
    const ending = record ? [record.status, record.deadLetterReason].filter(Boolean).join(' ') : 'none';
    const endings = (totals.endings[job.kind] ??= {});
    endings[ending] = (endings[ending] ?? 0) + 1;
    const facts: JobFacts = {
      job,
      submissions,
      verdict,
      record,
      queued: queuedByJob.get(job.jobId) ?? [],
      deadLettered: deadLetteredByJob.get(job.jobId) ?? [],
      completions: input.completions.get(job.jobId),
      restartedDuringLifetime: restartedDuring(record, input.killedAt, input.now),
      settlement: input.settlement,
      faults,
      events,
      totals,
    };
    for (const [violationClass, reasons] of problemsOf(facts)) {
      if (reasons.length === 0) continue;
      violations.push({
        class: violationClass,
        jobId: job.jobId,
        key: job.key,
        kind: job.kind,
        verdict,
        sentAs: submissions.sentAs,
        tries: submissions.tries,
        reasons,
        record,
        queued: facts.queued,
        deadLettered: facts.deadLettered,
      });
    }
  }
  for (const [jobId, messages] of deadLetteredByJob) {
    if (plannedIds.has(jobId)) continue;
    violations.push({
      class: 'mismatches',
      jobId,
      key: undefined,
      kind: 'unknown',
      verdict: undefined,
      sentAs: '',
      tries: [],
      reasons: [`the dead-letter sub-queue holds ${messages.length} message(s) of a job nobody submitted`],
      record: undefined,
      queued: queuedByJob.get(jobId) ?? [],
      deadLettered: messages,
    });
  }
  const counts = Object.fromEntries(violationClasses.map((name) => [name, 0])) as Record<
    ViolationClass,
    number
  >;
  for (const violation of violations) counts[violation.class] += 1;
  return { counts, violations, totals };
}

interface JobFacts {
  readonly job: PlannedJob;
  readonly submissions: JobSubmissions;
  readonly verdict: ClientVerdict;
  readonly record: JobRecord | undefined;
  readonly queued: readonly BrokerMessage[];
  readonly deadLettered: readonly BrokerMessage[];
  readonly completions: HandlerCompletions | undefined;
  readonly restartedDuringLifetime: boolean;
  readonly settlement: 'host' | 'explicit';
  readonly faults: readonly FaultEvent[];
  readonly events: JobAppEvents | undefined;
  readonly totals: SoakTotals;
}

function problemsOf(facts: JobFacts): Map<ViolationClass, string[]> {
  const problems = new Map<ViolationClass, string[]>(violationClasses.map((name) => [name, []]));
  const add = (violationClass: ViolationClass, reason: string) => problems.get(violationClass)?.push(reason);
  const { job, submissions, verdict, record, deadLettered, queued, completions } = facts;

  for (const attempt of [...submissions.tries, ...submissions.cancels]) {
    if (attempt.kind !== 'answered' || attempt.status < 500 || attempt.sentAt === undefined) continue;
    const excused = facts.faults.some(
      (fault) =>
        excusesServerErrors(fault.kind) &&
        overlaps(attempt, fault.startedAt, fault.endedAt + faultAftermathMs),
    );
    if (!excused)
      add('serverErrors', `answered ${attempt.status} with no storage fault or app restart under way`);
  }
  checkHeldSend(facts, add);

  for (const answer of submissions.answers) {
    if (answer.jobId !== job.jobId)
      add('mismatches', `answered with jobId ${answer.jobId}, not ${job.jobId}`);
  }
  const created = submissions.answers.filter((answer) => answer.created).length;
  // Only one request per key may hear "created" (202); the others must hear "it exists" (200).
  if (created > 1) add('mismatches', `${created} requests with its key were answered "created"`);
  const ranTimes = (completions?.byProcess ?? []).reduce((sum, runs) => sum + runs, 0);

  if (verdict === 'refused') {
    // A refusal means nothing was committed: no record may exist, whatever the cancels did.
    if (record)
      add('refusedButRecorded', `every submission was refused, yet it has a ${record.status} record`);
    if (deadLettered.length + queued.length > 0) {
      add(
        'refusedButRecorded',
        `every submission was refused, yet the broker holds ${describe(deadLettered, queued)}`,
      );
    }
    if (ranTimes > 0)
      add('refusedButRecorded', `every submission was refused, yet its handler succeeded ${ranTimes}×`);
    return problems;
  }
  if (!record) {
    const held = deadLettered.length + queued.length > 0 ? describe(deadLettered, queued) : undefined;
    if (verdict === 'accepted') {
      const broker = held ? `; the broker holds ${held}` : '';
      add('lost', `accepted (${submissions.answers.length} 2xx answers) but no record${broker}`);
    } else if (held) {
      add('mismatches', `no record, yet the broker holds ${held}`);
    } else if (ranTimes > 0) {
      add('mismatches', `no record, yet its handler succeeded ${ranTimes}×`);
    }
    return problems;
  }

  for (const reason of cancelProblems(record, submissions.cancels)) add('cancelBroken', reason);
  if (!isTerminalJobStatus(record.status)) {
    add(
      'stuck',
      `still ${record.status} (attempt ${record.attempt} of ${record.maxAttempts}); broker: ${describe(deadLettered, queued)}`,
    );
  }
  for (const reason of runProblems(record, completions)) add('duplicateRuns', reason);
  for (const reason of recordProblems(record, job)) add('mismatches', reason);
  for (const reason of payloadProblems(record, job, facts.restartedDuringLifetime)) add('mismatches', reason);
  for (const reason of brokerProblems(record, deadLettered, facts.settlement)) add('mismatches', reason);
  return problems;
}

/**
 * A cancel the app accepted (200: queued or retrying; 202: running) must end the job Cancelled, with no run after
 * the attempt the answer named; a Cancelled job must have had a cancel accepted (or one whose answer was lost).
 */
function cancelProblems(record: JobRecord, cancels: readonly SubmitTry[]): string[] {
  const accepted = acceptedCancels(cancels);
  const problems: string[] = [];
  if (accepted.length === 0) {
    const lost = cancels.some((attempt) => attempt.kind === 'indeterminate');
    if (record.status === 'Cancelled' && !lost) problems.push('Cancelled, yet no cancel of it was accepted');
    return problems;
  }
  if (record.status !== 'Cancelled') {
    problems.push(`a cancel was answered ${accepted[0]?.status}, yet the job ended ${record.status}`);
  }
  const named = accepted.map((answer) => answer.attempt).filter(Number.isFinite);
  const lastAllowed = named.length > 0 ? Math.min(...named) : Infinity;
  const later = record.outcomes.filter((outcome) => outcome.attempt > lastAllowed);
  if (record.attempt > lastAllowed || later.length > 0) {
    problems.push(`ran after its cancel: cancelled at attempt ${lastAllowed}, ${describeOutcomes(record)}`);
  }
  return problems;
}

/**
 * The cancels the app accepted (200 or 202), each with the attempt its answer named; and a 409 naming the job
 * Cancelled, which says an earlier try was applied though its answer was lost (a 503 after the write): its attempt
 * is unknown (NaN).
 */
function acceptedCancels(cancels: readonly SubmitTry[]): { status: number; attempt: number }[] {
  return cancels.flatMap((attempt) => {
    if (attempt.kind !== 'answered') return [];
    const body = attempt.body as { attempt?: unknown; jobStatus?: unknown } | undefined;
    if (attempt.status === 200 || attempt.status === 202)
      return [{ status: attempt.status, attempt: Number(body?.attempt) }];
    return attempt.status === 409 && body?.jobStatus === 'Cancelled' ? [{ status: 409, attempt: NaN }] : [];
  });
}

/** More runs than the job may have, or runs the record does not account for. */
function runProblems(record: JobRecord, completions: HandlerCompletions | undefined): string[] {
  const problems: string[] = [];
  if (record.attempt > record.maxAttempts) {
    problems.push(`attempt ${record.attempt} is over maxAttempts ${record.maxAttempts}`);
  }
  const attempts = record.outcomes.map((outcome) => outcome.attempt);
  if (attempts.some((attempt, index) => index > 0 && attempt <= (attempts[index - 1] ?? 0))) {
    problems.push(
      `outcomes for attempts [${attempts.join(', ')}]: one attempt recorded twice or out of order`,
    );
  }
  if (record.outcomes.length > record.attempt) {
    problems.push(`${record.outcomes.length} outcomes for ${record.attempt} attempts`);
  }
  const completed = record.outcomes.filter((outcome) => outcome.status === 'Completed').length;
  if (completed > 1) problems.push(`${completed} Completed outcomes`);
  const completedIndex = record.outcomes.findIndex((outcome) => outcome.status === 'Completed');
  if (completedIndex >= 0 && completedIndex < record.outcomes.length - 1) {
    problems.push('ran again after a Completed outcome');
  }
  if (completions && completions.afterSettledElsewhere > 0) {
    problems.push(
      `its handler succeeded ${completions.afterSettledElsewhere}× after another run had settled it`,
    );
  }
  const twiceInOneProcess = completions?.byProcess.findIndex((runs) => runs > 1) ?? -1;
  if (twiceInOneProcess >= 0) {
    problems.push(
      `its handler succeeded ${completions?.byProcess[twiceInOneProcess]}× in app process ${twiceInOneProcess + 1}`,
    );
  }
  return problems;
}

/** A record that contradicts itself or its submission. */
function recordProblems(record: JobRecord, job: PlannedJob): string[] {
  const problems: string[] = [];
  const last = record.outcomes[record.outcomes.length - 1];
  if (record.maxAttempts !== job.maxAttempts) {
    problems.push(`record says maxAttempts ${record.maxAttempts}, the submission ${job.maxAttempts}`);
  }
  if (record.status === 'Completed' && last?.status !== 'Completed') {
    problems.push(`Completed, but its last outcome is ${last?.status ?? 'missing'}`);
  }
  if (record.status !== 'DeadLettered') return problems;
  if (record.deadLetterReason === 'Poisoned' && last?.status !== 'Poisoned') {
    problems.push(`dead-lettered Poisoned, but its last outcome is ${last?.status ?? 'missing'}`);
  }
  if (record.deadLetterReason === 'MaxRetriesExceeded' && record.attempt < record.maxAttempts) {
    problems.push(
      `dead-lettered MaxRetriesExceeded after ${record.attempt} of ${record.maxAttempts} attempts`,
    );
  }
  if (record.deadLetterReason !== 'Poisoned' && record.deadLetterReason !== 'MaxRetriesExceeded') {
    problems.push(`dead-lettered ${record.deadLetterReason}: ${record.deadLetterDescription}`);
  }
  return problems;
}

/**
 * An end the payload rules out. `diagnostics.simulate` counts a `failTimes` job's runs in the app process, so a
 * restart starts its count again and it may then run out of attempts; that is excused only with evidence: a run
 * number that went back (the handler's failure messages carry it), or a run cut short while the app was killed.
 */
function payloadProblems(record: JobRecord, job: PlannedJob, restarted: boolean): string[] {
  if (record.status !== 'Completed' && record.status !== 'DeadLettered') return [];
  const statuses = record.outcomes.map((outcome) => outcome.status);
  const failures = statuses.filter((status) => status === 'Failed').length;
  const ending = `${record.status}${record.deadLetterReason ? ` ${record.deadLetterReason}` : ''}`;
  const problems: string[] = [];
  const expect = (ok: boolean, expected: string) => {
    if (!ok)
      problems.push(
        `${describeJob(job)} should end ${expected}, ended ${ending} (${describeOutcomes(record)})`,
      );
  };
  switch (job.kind) {
    case 'quick':
    case 'slow':
      expect(record.status === 'Completed', 'Completed');
      if (failures > 0 || statuses.includes('Poisoned'))
        problems.push(`${describeJob(job)} failed: ${describeOutcomes(record)}`);
      break;
    case 'failTimes': {
      const failTimes = job.payload.failTimes ?? 0;
      const runs = record.outcomes.flatMap((outcome) => {
        const run = /Simulated transient failure (\d+) of/.exec(outcome.errorMessage ?? '')?.[1];
        return run ? [Number(run)] : [];
      });
      const countRestarted = runs.some((run, index) => index > 0 && run <= (runs[index - 1] ?? 0));
      const cutShortByKill = restarted && record.attempt > record.outcomes.length;
      if (job.maxAttempts <= failTimes)
        expect(isDeadLettered(record, 'MaxRetriesExceeded'), 'DeadLettered MaxRetriesExceeded');
      else if (!countRestarted && !cutShortByKill) expect(record.status === 'Completed', 'Completed');
      if (statuses.includes('Poisoned')) problems.push(`${describeJob(job)} was poisoned`);
      break;
    }
    case 'failAlways':
      expect(isDeadLettered(record, 'MaxRetriesExceeded'), 'DeadLettered MaxRetriesExceeded');
      break;
    case 'poison':
      expect(isDeadLettered(record, 'Poisoned'), 'DeadLettered Poisoned');
      if (failures > 0) problems.push(`${describeJob(job)} failed transiently: ${describeOutcomes(record)}`);
      break;
  }
  return problems;
}

/** The dead-letter sub-queue must hold each dead-lettered job exactly once, and no other job. */
function brokerProblems(
  record: JobRecord,
  deadLettered: readonly BrokerMessage[],
  settlement: 'host' | 'explicit',
): string[] {
  if (record.status !== 'DeadLettered') {
    return deadLettered.length > 0
      ? [`the dead-letter sub-queue holds ${describe(deadLettered, [])} for a ${record.status} job`]
      : [];
  }
  if (deadLettered.length === 0) return ['dead-lettered on its record, but not in the dead-letter sub-queue'];
  const problems: string[] = [];
  if (deadLettered.length > 1)
    problems.push(
      `${deadLettered.length} copies in the dead-letter sub-queue: ${describe(deadLettered, [])}`,
    );
  // In host settlement the broker dead-letters by MaxDeliveryCount, so only explicit settlement carries our reason.
  if (settlement === 'explicit') {
    const wrong = deadLettered.filter((message) => message.deadLetterReason !== record.deadLetterReason);
    if (wrong.length > 0)
      problems.push(`record says ${record.deadLetterReason}, the broker ${describe(wrong, [])}`);
  }
  return problems;
}

function isDeadLettered(record: JobRecord, reason: string): boolean {
  return record.status === 'DeadLettered' && record.deadLetterReason === reason;
}

/** A job accepted during a broker outage reaches the broker within `heldSendGraceMs` of its end. */
function checkHeldSend(facts: JobFacts, add: (violationClass: ViolationClass, reason: string) => void): void {
  const { submissions, events, faults, totals } = facts;
  const accepted = submissions.tries.find(
    (attempt) => attempt.kind === 'answered' && attempt.status >= 200 && attempt.status <= 299,
  );
  if (!accepted || accepted.sentAt === undefined) return;
  const outage = faults.find(
    (fault) => fault.kind.endsWith('Broker') && overlaps(accepted, fault.startedAt, fault.endedAt),
  );
  if (!outage) return;
  totals.acceptedDuringOutage += 1;
  const deadline = outage.endedAt + heldSendGraceMs;
  // A restart loses what the app held in memory: then the reconciler sends it, as designed.
  const restarted = faults.some(
    (fault) => fault.kind === 'killApp' && fault.startedAt >= accepted.sentAt! && fault.startedAt <= deadline,
  );
  // Sent when it was submitted (the outage had not begun for this app's connection, or was over): nothing held.
  if (!events?.held || restarted) return;
  if (events.heldSentAt === undefined) {
    add('heldPastOutage', 'held for the broker, and never sent by the app (only the reconciler could)');
    return;
  }
  const waitedMs = events.heldSentAt - outage.endedAt;
  totals.longestHeldAfterOutageMs = Math.max(totals.longestHeldAfterOutageMs, waitedMs);
  if (events.heldSentAt > deadline)
    add('heldPastOutage', `sent ${waitedMs} ms after the broker outage ended`);
}

function excusesServerErrors(kind: FaultEvent['kind']): boolean {
  return kind === 'killApp' || kind.endsWith('Storage') || kind === 'cutBoth';
}

function overlaps(attempt: SubmitTry, from: number, to: number): boolean {
  return (attempt.sentAt ?? 0) <= to && (attempt.endedAt ?? attempt.sentAt ?? 0) >= from;
}

function restartedDuring(record: JobRecord | undefined, killedAt: readonly number[], now: number): boolean {
  if (!record) return false;
  const from = Date.parse(record.submittedAt);
  const to = record.completedAt ? Date.parse(record.completedAt) : now;
  return killedAt.some((at) => at >= from && at <= to);
}

function describeJob(job: PlannedJob): string {
  return `a ${job.kind} job (${JSON.stringify(job.payload)}, maxAttempts ${job.maxAttempts})`;
}

function describeOutcomes(record: JobRecord): string {
  const outcomes = record.outcomes.map((outcome) => `${outcome.attempt}:${outcome.status}`).join(', ');
  return `attempt ${record.attempt}, outcomes [${outcomes}]`;
}

function describe(deadLettered: readonly BrokerMessage[], queued: readonly BrokerMessage[]): string {
  if (deadLettered.length + queued.length === 0) return 'nothing';
  const dlq = deadLettered.map(
    (message) => `DLQ ${message.messageId} (${message.deadLetterReason ?? 'no reason'})`,
  );
  const active = queued.map(
    (message) => `${message.state} ${message.messageId} (deliveries ${message.deliveryCount})`,
  );
  return [...dlq, ...active].join('; ');
}
