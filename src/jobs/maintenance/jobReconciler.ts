import type { DeadLetterEntry, DeadLetterQueue } from '../ports/deadLetterQueue';
import type { JobQueue } from '../ports/jobQueue';
import type { OutgoingJobMessage } from '../model/outgoingJobMessage';
import { firstMessageOf, repairMessageOf, retryMessageOf } from '../model/outgoingJobMessage';
import type { JobStore, StoredJob } from '../ports/jobStore';
import { JobTelemetry } from '../observability/jobTelemetry';
import type { Telemetry } from '../ports/telemetry';
import { noTelemetry } from '../ports/telemetry';
import { errorMessage } from '../errors';
import type { JobMessage } from '../model/jobMessage';
import { parseJobMessage } from '../model/jobMessage';
import type { JobRecord } from '../model/jobRecord';
import { transition } from '../model/jobTransitions';
import { changeRecord } from '../support/changeRecord';
import type { DeadLetterRepair, DeadLetteredAttempt, RecordRepair } from './jobRepair';
import { deadLetterRepairOf, repairOf } from './jobRepair';
import type { Logger } from '../support/logger';

export interface JobReconcilerOptions {
  store: JobStore;
  queue: Pick<JobQueue, 'send'>;
  deadLetters: DeadLetterQueue;
  logger: Logger;
  telemetry?: Telemetry;
  /** A non-terminal record unchanged for this long is looked at (and one repaired is left alone this long again). */
  staleAfterMs: number;
  /** Most records and dead-lettered messages one run looks at, each. */
  batchSize?: number;
  now?: () => Date;
}

/** What one run found and did. */
export interface ReconcileReport {
  /** Stale records looked at. */
  examined: number;
  /** Messages sent again for records that had stopped moving. */
  resent: number;
  /** Records marked DeadLettered because the broker had dead-lettered their message. */
  recordedDeadLettered: number;
  /** Dead-letter queue messages removed because their job no longer needs them. */
  deadLettersRemoved: number;
  /** Repairs that failed this time (the next run tries again). */
  failed: number;
}

/**
 * Finds jobs that stopped moving and moves them on, as pg-boss's maintenance, Hangfire's requeue of invisible jobs
 * and NServiceBus's outbox dispatcher do. It closes the failure windows the request path cannot: a submission that
 * died before its send, a retry copy that was never scheduled, a message the broker dead-lettered on its own
 * (MaxDeliveryCountExceeded) while the record said Running, and dead-letter copies of jobs that completed after all.
 * Run by a timer (and by the local host). Bounded per run, idempotent, and safe on many instances at once: every
 * repair starts with a conditional write of the record, so of two reconcilers only one sends.
 */
export class JobReconciler {
  private readonly now: () => Date;
  private readonly batchSize: number;
  private readonly events: JobTelemetry;
  /** Where this instance's pass over the dead-letter queue stands, and the jobs (and cycles) it has met in it. */
  private deadLetterPass: { cursor: string | undefined; seen: Set<string> } = {
    cursor: undefined,
    seen: new Set(),
  };

  constructor(private readonly options: JobReconcilerOptions) {
    this.now = options.now ?? (() => new Date());
    this.batchSize = options.batchSize ?? 200;
    this.events = new JobTelemetry(options.telemetry ?? noTelemetry);
  }

  async run(): Promise<ReconcileReport> {
    const report: ReconcileReport = {
      examined: 0,
      resent: 0,
      recordedDeadLettered: 0,
      deadLettersRemoved: 0,
      failed: 0,
    };
    // The dead-letter queue first: a record it marks DeadLettered must not have its message resent below.
    await this.reconcileDeadLetters(report);
    await this.reconcileStaleRecords(report);
    const { examined, ...repairs } = report;
    if (Object.values(repairs).some((count) => count > 0))
      this.options.logger.info('Reconciler run', { examined, ...repairs });
    return report;
  }

  private async reconcileDeadLetters(report: ReconcileReport): Promise<void> {
    const { cursor, seen } = this.deadLetterPass;
    const { entries, truncated } = await this.options.deadLetters.peekDeadLetters(this.batchSize, cursor);
    // A pass over the whole sub-queue takes as many runs as it needs, each going on where the last one stopped.
    this.deadLetterPass = truncated
      ? { cursor: entries.at(-1)?.sequenceNumber, seen }
      : { cursor: undefined, seen: new Set() };
    for (const entry of entries) {
      const parsed = parseJobMessage(entry.body);
      if (!parsed.ok) continue;
      const job = parsed.job;
      const cycleKey = `${job.jobId}/${entry.cycle}`;
      const repeated = seen.has(cycleKey);
      seen.add(cycleKey);
      try {
        const stored = await this.options.store.get(job.jobId);
        const attempt: DeadLetteredAttempt = {
          cycle: entry.cycle,
          attempt: job.attempt,
          reason: entry.reason,
          description: entry.description,
          repeated,
        };
        const repair = deadLetterRepairOf(stored?.record, attempt, this.now());
        await this.repairDeadLetter(stored, entry, job, attempt, repair, report);
      } catch (error) {
        report.failed += 1;
        this.options.logger.warn('Reconciling a dead-lettered message failed; the next run tries again', {
          jobId: job.jobId,
          sequenceNumber: entry.sequenceNumber,
          error: errorMessage(error),
        });
      }
    }
  }

  private async repairDeadLetter(
    stored: StoredJob | undefined,
    entry: DeadLetterEntry,
    job: JobMessage,
    attempt: DeadLetteredAttempt,
    repair: DeadLetterRepair,
    report: ReconcileReport,
  ): Promise<void> {
    const context = { jobId: job.jobId, jobType: job.jobType, sequenceNumber: entry.sequenceNumber };
    if (repair.kind === 'remove') {
      const locked = await this.options.deadLetters.lockDeadLetter(entry.sequenceNumber);
      if (!locked) {
        // Gone meanwhile, or out of reach: locked elsewhere, or too deep in the sub-queue for the search's locks.
        this.options.logger.warn(
          'A dead-lettered copy to remove could not be locked; the next run tries again',
          {
            ...context,
            why: repair.why,
          },
        );
        return;
      }
      await locked.remove();
      report.deadLettersRemoved += 1;
      this.options.logger.info('Removed a dead-lettered copy the job no longer needs', {
        ...context,
        why: repair.why,
      });
      this.events.repaired(job, job.attempt, 'DeadLetterRemoved', repair.why);
      return;
    }
    if (repair.kind !== 'recordDeadLettered' || !stored) return;
    // Decided again on the latest record should another writer move it meanwhile (the job may be running again).
    const changed = await changeRecord(this.options.store, stored, (record) => {
      const again = deadLetterRepairOf(record, attempt, this.now());
      if (again.kind !== 'recordDeadLettered') return { keep: false };
      const next = transition(
        record,
        { type: 'DeadLettered', reason: again.reason, description: again.description },
        this.now(),
      );
      return next.ok ? { write: next.record, result: true } : { keep: false };
    });
    if (!changed?.result) return;
    report.recordedDeadLettered += 1;
    this.options.logger.warn('The broker dead-lettered the job; its record now says so', {
      ...context,
      reason: repair.reason,
      description: repair.description,
    });
    this.events.repaired(job, stored.record.attempt, 'RecordedDeadLettered', repair.reason);
  }

  private async reconcileStaleRecords(report: ReconcileReport): Promise<void> {
    const now = this.now();
    const stale = await this.options.store.findUnfinished({
      updatedBefore: new Date(now.getTime() - this.options.staleAfterMs),
      limit: this.batchSize,
    });
    for (const stored of stale) {
      report.examined += 1;
      const repair = repairOf(stored.record, now, this.options.staleAfterMs);
      if (repair.kind === 'none') continue;
      try {
        if (await this.resend(stored, now)) report.resent += 1;
      } catch (error) {
        report.failed += 1;
        this.options.logger.warn('Repairing a job failed; the next run tries again', {
          jobId: stored.record.jobId,
          repair: repair.kind,
          error: errorMessage(error),
        });
      }
    }
  }

  /** Claims the repair with a conditional write (which also restarts the record's stale clock), then sends. */
  private async resend(stored: StoredJob, now: Date): Promise<boolean> {
    const job = jobOf(stored);
    // Decided again on the latest record should another writer move it meanwhile: it may need no repair by then.
    const changed = await changeRecord<Resend | undefined>(this.options.store, stored, (latest) => {
      const again = repairOf(latest, now, this.options.staleAfterMs);
      if (again.kind === 'none') return { keep: undefined };
      const next = transition(latest, { type: 'Touched' }, now);
      return next.ok ? { write: next.record, result: again } : { keep: undefined };
    });
    if (!changed?.result || !changed.stored) return false;
    const { record, etag } = changed.stored;
    const context = {
      jobId: record.jobId,
      jobType: record.jobType,
      status: record.status,
      attempt: record.attempt,
    };
    if (!job) {
      // Touched all the same, so that the sweep moves on to others rather than find this one on every run.
      this.options.logger.warn(
        'A job stopped moving, but its record holds no message to send again',
        context,
      );
      return false;
    }
    const message = messageFor(job, record, changed.result, etag, now);
    await this.options.queue.send([message]);
    this.options.logger.warn('A job had stopped moving; its message was sent again', {
      ...context,
      repair: changed.result.kind,
      messageId: message.messageId,
    });
    this.events.repaired(record, record.attempt, changed.result.kind, record.status);
    return true;
  }
}

type Resend = Exclude<RecordRepair, { kind: 'none' }>;

function jobOf({ record, body }: StoredJob): JobMessage | undefined {
  if (body === undefined) return undefined;
  const parsed = parseJobMessage(body);
  return parsed.ok && parsed.job.jobId === record.jobId ? parsed.job : undefined;
}

function messageFor(
  job: JobMessage,
  record: JobRecord,
  repair: Resend,
  etag: string,
  now: Date,
): OutgoingJobMessage {
  switch (repair.kind) {
    case 'resendFirst':
      // With the record's ETag, as the submission's own send: the first delivery claims the job without a read.
      return record.cycle === 1
        ? { ...firstMessageOf(job), recordEtag: etag }
        : firstMessageOf(job, undefined, record.cycle);
    case 'resendRetry':
      return retryMessageOf(job, record.cycle, repair.attempt);
    case 'resendRun':
      return repairMessageOf(job, record.cycle, Math.max(1, record.attempt), now);
  }
}
