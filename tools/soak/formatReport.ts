import type { JobRecord } from '../../src/jobs/model/jobRecord';
import type { InvariantReport, Violation } from './checkInvariants';
import { violationClasses } from './checkInvariants';
import type { FaultEvent } from './faults';
import type { SubmitTry } from './submitWithRetries';

export interface SoakRunFacts {
  readonly settlement: 'host' | 'explicit';
  readonly seed: number;
  readonly faults: readonly FaultEvent[];
  readonly elapsedMs: number;
  /** False when the settle deadline passed with work still moving (see `awaitSettled`). */
  readonly settled: boolean;
  /** Logs of app processes that exited on their own. */
  readonly crashes: readonly string[];
  readonly logDir: string;
}

/** The one line a soak run ends with: every count and the seed that reproduces it. */
export function formatSummary({ counts, totals }: InvariantReport, run: SoakRunFacts): string {
  const classes = violationClasses.map((name) => `${name}=${counts[name]}`).join(' ');
  return (
    `soak settlement=${run.settlement} seed=${run.seed} jobs=${totals.jobs} ` +
    `accepted=${totals.accepted} refused=${totals.refused} indeterminate=${totals.indeterminate} ` +
    `completed=${totals.completed} deadLettered=${totals.deadLettered} cancelled=${totals.cancelled} dlqMessages=${totals.deadLetterMessages} ` +
    `faults=${run.faults.length} settled=${run.settled} elapsed=${Math.round(run.elapsedMs / 1000)}s ` +
    `appCrashes=${run.crashes.length} reconcilerRepairs=${totals.reconcilerRepairs} ` +
    `acceptedDuringOutage=${totals.acceptedDuringOutage} ` +
    `longestHeldAfterOutage=${(totals.longestHeldAfterOutageMs / 1000).toFixed(1)}s ` +
    `longestAfterLastFault=${Math.round(totals.longestAfterLastFaultMs / 1000)}s :: ${classes} ` +
    `(app logs: ${run.logDir})`
  );
}

/** Up to `perClass` jobs of each class that has any, each with its reasons, record and broker messages. */
export function formatExamples({ violations }: InvariantReport, perClass = 20): string {
  const lines: string[] = [];
  for (const name of violationClasses) {
    const ofClass = violations.filter((violation) => violation.class === name);
    if (ofClass.length === 0) continue;
    lines.push(`${name} (${ofClass.length}), first ${Math.min(perClass, ofClass.length)}:`);
    for (const violation of ofClass.slice(0, perClass)) lines.push(...formatViolation(violation));
  }
  return lines.join('\n');
}

/** How the jobs of each kind ended, one line: enough to see a mode or a seed shift jobs from one end to another. */
export function formatEndings({ totals }: InvariantReport): string {
  return Object.entries(totals.endings)
    .map(
      ([kind, endings]) =>
        `${kind}: ${Object.entries(endings)
          .map(([ending, jobs]) => `${ending}=${jobs}`)
          .join(', ')}`,
    )
    .join(' | ');
}

export function formatFaults(faults: readonly FaultEvent[], startedAt: number): string {
  return faults
    .map((fault) => `${fault.kind}@+${fault.startedAt - startedAt}ms/${fault.endedAt - fault.startedAt}ms`)
    .join(' ');
}

function formatViolation(violation: Violation): string[] {
  const head = `  ${violation.jobId} key=${violation.key ?? '-'} kind=${violation.kind} client=${violation.verdict ?? '-'}`;
  return [
    head,
    ...violation.reasons.map((reason) => `    - ${reason}`),
    `    sent as ${violation.sentAs || '-'}; client tries: ${violation.tries.map(describeTry).join(', ') || 'none'}`,
    `    record: ${violation.record ? JSON.stringify(recordSummary(violation.record)) : 'none'}`,
  ];
}

function describeTry(attempt: SubmitTry): string {
  if (attempt.kind === 'answered') return String(attempt.status);
  return attempt.kind === 'notDelivered' ? 'connection refused' : `no answer (${attempt.error})`;
}

/** The fields that tell where a job stands and how it got there. */
function recordSummary(record: JobRecord) {
  return {
    status: record.status,
    attempt: record.attempt,
    maxAttempts: record.maxAttempts,
    outcomes: record.outcomes.map((outcome) => `${outcome.attempt}:${outcome.status}@${outcome.completedAt}`),
    deadLetterReason: record.deadLetterReason,
    deadLetterDescription: record.deadLetterDescription,
    submittedAt: record.submittedAt,
    updatedAt: record.updatedAt,
    nextAttemptAt: record.nextAttemptAt,
    claimedBy: record.claimedBy,
    claimExpiresAt: record.claimExpiresAt,
  };
}
