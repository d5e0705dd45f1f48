import type { HandlerMatch, HandlerRegistry } from '../jobTypes/handlerRegistry';
import { recheckMessageOf, retryMessageOf } from '../model/outgoingJobMessage';
import type { JobQueue } from '../ports/jobQueue';
import type { JobStore, StoredJob } from '../ports/jobStore';
import { isTerminalJobStatus } from '../ports/jobStore';
import { JobTelemetry } from '../observability/jobTelemetry';
import type { Telemetry } from '../ports/telemetry';
import { noTelemetry } from '../ports/telemetry';
import type { TraceContext } from '../observability/traceContext';
import { continueTrace, formatTraceParent } from '../observability/traceContext';
import type { DeadLetterReason } from '../model/deadLetterReason';
import { InfrastructureError, errorMessage, isInfrastructureError } from '../errors';
import { isoTimestamp } from '../model/isoTimestamp';
import type { JobMessage } from '../model/jobMessage';
import { parseJobMessage, toWireBody } from '../model/jobMessage';
import type { RunDecision, RunResult } from './jobDecision';
import { decideAfterRun, decideDelivery } from './jobDecision';
import type { JobOutcome } from '../model/jobOutcome';
import type { JobRecord } from '../model/jobRecord';
import { cancelledRecord, deadLetteredRecord, newJobRecord } from '../model/jobRecord';
import type { Logger } from '../support/logger';
import type { ReceivedJobMessage } from '../model/receivedJobMessage';
import type { Settlement } from './settlement';
import { HandlerRunner } from './handlerRunner';
import { ProgressReporter } from './progressReporter';
import { untilAvailable } from '../support/untilAvailable';
import { isGoneLocalWorker, newWorkerId } from './workerIdentity';

export interface JobDispatcherOptions {
  registry: HandlerRegistry;
  store: JobStore;
  /** Where retry copies are scheduled: the same queue the job came from. */
  retryQueue: Pick<JobQueue, 'schedule'>;
  logger: Logger;
  /** Job events, metrics and failures; processing continues the trace the message carries. */
  telemetry?: Telemetry;
  /** Aborted when the app shuts down; running handlers see it through their own signal. */
  shutdownSignal?: AbortSignal;
  /** Names this worker on the claims it takes; defaults to host, process and a random suffix. */
  workerId?: string;
  /** A claim lasts the handler timeout plus this, so a result can still be written after a timed-out run. */
  claimGraceMs?: number;
  /**
   * How long a delivery waits out an outage of the store or the queue, holding its message, before it gives the
   * message back: an abandon is a delivery used up, and the broker dead-letters after MaxDeliveryCount of them.
   * Keep it below the host's `maxAutoLockRenewalDuration` (5 minutes), which bounds how long a lock can be held.
   */
  outageToleranceMs?: number;
  /**
   * While a handler runs, its record is read this often to see whether an operator cancelled it from another
   * instance (a cancel in this process aborts the run at once). 0: never.
   */
  cancelCheckIntervalMs?: number;
  now?: () => Date;
  random?: () => number;
}

/** One delivery of one job, as it moves through the dispatcher. */
interface Delivery {
  readonly job: JobMessage;
  readonly received: ReceivedJobMessage;
  readonly logger: Logger;
  /** This processing's span in the sender's trace; undefined when telemetry is off. */
  readonly trace: TraceContext | undefined;
}

// Service Bus keeps dead-letter descriptions short; so do we, everywhere.
const maxDescriptionLength = 1024;
// Conflicting writes are rare (two deliveries of one job at once); a few rounds settle them.
const maxDecisionRounds = 3;
// A record must fit one Table Storage property (32K characters): the latest outcomes, each message shortened.
const maxOutcomesKept = 20;

/**
 * Turns one received message into exactly one settlement: runs the job's handler at most once per delivery,
 * records every step on the job record, and schedules retries itself. Knows nothing of the transport. What to do
 * is decided by two pure functions (`decideDelivery`, `decideAfterRun`); this class does the I/O around them.
 */
export class JobDispatcher {
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly workerId: string;
  private readonly claimGraceMs: number;
  private readonly outageToleranceMs: number;
  private readonly events: JobTelemetry;
  private readonly handlers: HandlerRunner;

  constructor(private readonly options: JobDispatcherOptions) {
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.workerId = options.workerId ?? newWorkerId();
    this.claimGraceMs = options.claimGraceMs ?? 10_000;
    this.outageToleranceMs = options.outageToleranceMs ?? 240_000;
    this.events = new JobTelemetry(options.telemetry ?? noTelemetry);
    this.handlers = new HandlerRunner({ shutdownSignal: options.shutdownSignal });
    this.watchForCancels(options.cancelCheckIntervalMs ?? 0);
  }

  async dispatch(received: ReceivedJobMessage): Promise<Settlement> {
    const trace = this.events.enabled ? continueTrace(received.traceParent) : undefined;
    const parsed = parseJobMessage(received.body);
    if (!parsed.ok) {
      this.options.logger.warn('Dead-lettering a message that is not a job', {
        messageId: received.messageId,
        description: parsed.description,
      });
      const settlement = deadLetter('InvalidFormat', parsed.description);
      this.events.deadLettered(
        undefined,
        0,
        trace,
        'InvalidFormat',
        settlement.description,
        received.messageId,
      );
      return settlement;
    }
    const job = parsed.job;
    const logger = this.options.logger.child({
      jobId: job.jobId,
      jobType: job.jobType,
      correlationId: job.correlationId,
      messageId: received.messageId,
      deliveryCount: received.deliveryCount,
    });
    try {
      return await this.dispatchJob({ job, received, logger, trace });
    } catch (error) {
      // Our own fault, and an outage that outlasted the tolerance, or a bug: the broker redelivers the message.
      const description = `Processing failed before the job could be settled: ${errorMessage(error)}`;
      logger.error(description, { infrastructure: isInfrastructureError(error) });
      return { kind: 'abandon', description };
    }
  }

  private async dispatchJob(delivery: Delivery): Promise<Settlement> {
    const { job, received, logger } = delivery;
    // A write conflict means another worker moved the job on between our read and our write: decide again.
    for (let round = 1; ; round += 1) {
      try {
        // First round: a record our submission just wrote need not be read back (its ETag came with the message);
        // if anything changed it since, the claim conflicts and the next round reads it.
        const stored =
          round === 1 && received.recordEtag ? this.submittedRecord(job, received.recordEtag) : undefined;
        return await this.decide(delivery, stored ?? (await this.storedJobOf(delivery)));
      } catch (error) {
        if (!(error instanceof WriteConflict) || round >= maxDecisionRounds) throw error;
        logger.debug('The job record changed under us; deciding again', { round });
      }
    }
  }

  private async decide(delivery: Delivery, stored: StoredJob): Promise<Settlement> {
    const { job, received, logger } = delivery;
    const match = this.options.registry.match(job);
    const decision = decideDelivery(
      stored.record,
      { cycle: received.cycle ?? 1, attempt: job.attempt, maxAttempts: job.maxAttempts },
      match,
      this.now(),
      isGoneLocalWorker(stored.record.claimedBy, this.workerId),
    );
    switch (decision.kind) {
      case 'complete':
        logger.info(completionNotes[decision.why], {
          recordAttempt: stored.record.attempt,
          recordStatus: stored.record.status,
        });
        return { kind: 'complete' };
      case 'cancel': {
        const cancelled = await this.write(stored, cancelledRecord(stored.record, isoTimestamp(this.now())));
        this.reportCancelled(delivery, cancelled.record);
        return { kind: 'complete' };
      }
      case 'deadLetter':
        if (!decision.recordIt) return deadLetter(decision.reason, decision.description);
        return this.deadLetterJob(delivery, stored, decision.reason, decision.description);
      case 'recheck':
        return this.recheckAfterClaim(delivery, stored.record, decision.at);
      case 'ensureRetry': {
        const retry = retryMessageOf(job, decision.cycle, decision.attempt, traceParentOf(delivery));
        await this.patiently(() => this.options.retryQueue.schedule(retry, decision.at));
        logger.info(
          'Completing the original of an attempt whose retry is pending; the retry copy is scheduled',
          {
            nextAttempt: decision.attempt,
            at: decision.at.toISOString(),
          },
        );
        return { kind: 'complete' };
      }
      case 'run':
        if (!match.ok) throw new Error('A job without a handler cannot run.');
        return this.run(
          match,
          { ...delivery, logger: logger.child({ attempt: decision.attempt }) },
          stored,
          decision.cycle,
          decision.attempt,
        );
    }
  }

  private async run(
    { handler, policy, payload }: Extract<HandlerMatch, { ok: true }>,
    delivery: Delivery,
    queued: StoredJob,
    cycle: number,
    attempt: number,
  ): Promise<Settlement> {
    const { job, received, logger, trace } = delivery;
    // Shutting down: the job is not started, so no attempt is spent; the broker delivers it again elsewhere.
    if (this.options.shutdownSignal?.aborted)
      return { kind: 'abandon', description: 'The app is shutting down; the job was not started.' };
    const started = this.now();
    const startedAt = isoTimestamp(started);
    const fresh = cycle !== queued.record.cycle;
    // The claim: one conditional write, so of two workers that read the same version only one runs the handler.
    const claimed = await this.write(queued, {
      ...queued.record,
      status: 'Running',
      cycle,
      attempt,
      deliveredAttempt: job.attempt,
      startedAt: fresh ? startedAt : (queued.record.startedAt ?? startedAt),
      completedAt: fresh ? null : queued.record.completedAt,
      deadLetterReason: fresh ? null : queued.record.deadLetterReason,
      deadLetterDescription: fresh ? null : queued.record.deadLetterDescription,
      updatedAt: startedAt,
      nextAttemptAt: null,
      claimedBy: this.workerId,
      claimExpiresAt: isoTimestamp(new Date(started.getTime() + policy.handlerTimeoutMs + this.claimGraceMs)),
    });

    const queueLatencyMs = received.enqueuedTime && started.getTime() - received.enqueuedTime.getTime();
    this.events.started(job, attempt, trace, queueLatencyMs);
    const startedAtMs = performance.now();
    // Made on the first report: most handlers never report, and the run path is the hot one.
    let reporter: ProgressReporter | undefined;
    const onProgress = (percent: number, note?: string): void =>
      (reporter ??= new ProgressReporter({
        store: this.options.store,
        claimed,
        workerId: this.workerId,
        now: this.now,
      })).report(percent, note);
    const result = await this.handlers.run({
      handler,
      payload,
      job,
      cycle,
      attempt,
      logger,
      timeoutMs: policy.handlerTimeoutMs,
      onProgress,
    });
    // The record as the progress reports left it: the result is written on that version.
    const { current, progress } = reporter
      ? await reporter.finish()
      : { current: claimed, progress: claimed.record.progress };
    const outcome = this.outcomeOf(job, attempt, result, performance.now() - startedAtMs);
    if (result.status !== 'Completed')
      this.events.failed(job, attempt, trace, result.status, result.cause, outcome.durationMs);
    // The status goes in here rather than in a second copy of the record: completing is every job's last write.
    const ran = (latest: JobRecord, status = latest.status): JobRecord => ({
      ...latest,
      status,
      progress,
      completedAt: status === 'Completed' ? outcome.completedAt : latest.completedAt,
      lastOutcome: outcome,
      outcomes: withOutcome(latest.outcomes, outcome),
      updatedAt: outcome.completedAt,
      claimedBy: null,
      claimExpiresAt: null,
    });

    const decision = decideAfterRun(result, attempt, job.maxAttempts, policy.retry, this.now(), this.random);
    switch (decision.kind) {
      case 'complete': {
        const written = await this.writeResult(current, (latest) => ran(latest, 'Completed'));
        if (written?.status === 'Cancelled') return this.reportCancelled(delivery, written);
        logger.info(written ? 'Job completed' : 'Job completed, but another worker had settled it first', {
          durationMs: outcome.durationMs,
        });
        if (written) this.events.completed(job, attempt, trace, outcome.durationMs);
        return { kind: 'complete' };
      }
      case 'deadLetter':
        return this.deadLetterAfterRun(
          delivery,
          current,
          ran,
          attempt,
          decision.reason,
          decision.description,
        );
      case 'abandon': {
        const written = await this.writeResult(current, (latest) => ({
          ...ran(latest, 'Retrying'),
          nextAttemptAt: isoTimestamp(this.now()),
        }));
        if (written?.status === 'Cancelled') return this.reportCancelled(delivery, written);
        logger.warn('Job interrupted by shutdown; abandoning it for redelivery');
        return { kind: 'abandon', description: decision.error };
      }
      case 'retry':
        return this.scheduleRetry(delivery, current, ran, cycle, attempt, decision);
    }
  }

  private async scheduleRetry(
    delivery: Delivery,
    claimed: StoredJob,
    ran: (latest: JobRecord) => JobRecord,
    cycle: number,
    attempt: number,
    { at: enqueueAt, delayMs, error }: Extract<RunDecision, { kind: 'retry' }>,
  ): Promise<Settlement> {
    const { job, logger, trace } = delivery;
    const decidedAt = this.now();
    const written = await this.writeResult(claimed, (latest) => ({
      ...ran(latest),
      status: 'Retrying',
      nextAttemptAt: enqueueAt.toISOString(),
    }));
    if (!written) return { kind: 'complete' };
    if (written.status === 'Cancelled') return this.reportCancelled(delivery, written);
    // The original is completed only once its successor is safely scheduled. If we die in between, the original
    // comes back, finds the record Retrying at its attempt, and schedules the same copy (a duplicate if it exists).
    await this.patiently(() =>
      this.options.retryQueue.schedule(
        retryMessageOf(job, cycle, attempt + 1, traceParentOf(delivery)),
        enqueueAt,
      ),
    );
    logger.warn('Job failed; retry scheduled', { error, delayMs, nextAttempt: attempt + 1 });
    this.events.retryScheduled(job, attempt, trace, delayMs, shorten(error), decidedAt);
    return { kind: 'complete' };
  }

  /**
   * Another worker holds a live claim (a duplicate delivery, or a redelivery after a lost lock): look again when
   * the claim runs out rather than run the handler twice or spend a delivery on an abandon.
   */
  private async recheckAfterClaim(
    delivery: Delivery,
    record: JobRecord,
    claimExpiresAt: Date,
  ): Promise<Settlement> {
    const { job, logger } = delivery;
    const recheck = recheckMessageOf(job, record.cycle, claimExpiresAt, traceParentOf(delivery));
    await this.patiently(() => this.options.retryQueue.schedule(recheck, claimExpiresAt));
    logger.info('Job is running elsewhere; checking again when its claim expires', {
      claimedBy: record.claimedBy,
      claimExpiresAt: record.claimExpiresAt,
    });
    return { kind: 'complete' };
  }

  private async deadLetterJob(
    delivery: Delivery,
    stored: StoredJob,
    reason: DeadLetterReason,
    description: string,
  ): Promise<Settlement> {
    const settlement = deadLetter(reason, description);
    await this.write(stored, this.deadLettered(stored.record, settlement));
    this.reportDeadLetter(delivery, stored.record.attempt, settlement);
    return settlement;
  }

  private async deadLetterAfterRun(
    delivery: Delivery,
    claimed: StoredJob,
    ran: (latest: JobRecord) => JobRecord,
    attempt: number,
    reason: DeadLetterReason,
    description: string,
  ): Promise<Settlement> {
    const settlement = deadLetter(reason, description);
    const written = await this.writeResult(claimed, (latest) => this.deadLettered(ran(latest), settlement));
    if (!written) return { kind: 'complete' };
    if (written.status === 'Cancelled') return this.reportCancelled(delivery, written);
    this.reportDeadLetter(delivery, attempt, settlement);
    return settlement;
  }

  private reportDeadLetter(delivery: Delivery, attempt: number, settlement: DeadLetterSettlement): void {
    const { job, received, logger, trace } = delivery;
    logger.warn('Job dead-lettered', { reason: settlement.reason, description: settlement.description });
    this.events.deadLettered(
      job,
      attempt,
      trace,
      settlement.reason,
      settlement.description,
      received.messageId,
    );
  }

  /** The job ended Cancelled (`record`): its message is completed, and nothing runs it again. */
  private reportCancelled({ job, logger, trace }: Delivery, record: JobRecord): Settlement {
    logger.info('Job cancelled', { attempt: record.attempt, cancelRequestedAt: record.cancelRequestedAt });
    this.events.cancelled(job, record.attempt, trace);
    return { kind: 'complete' };
  }

  /**
   * Cancels this process's run of the job, if it has one under way: the handler's signal aborts. `false` when the
   * job is not running here (another instance sees the cancel on its record; see `cancelCheckIntervalMs`).
   */
  cancelRunning(jobId: string): boolean {
    return this.handlers.cancel(jobId);
  }

  /**
   * Every `intervalMs`, reads the record of each job running here for a cancel made on another instance: one timer
   * for all runs, not one each (a timer per job is measurable on the embedded path).
   */
  private watchForCancels(intervalMs: number): void {
    if (intervalMs <= 0) return;
    const timer = setInterval(() => {
      for (const jobId of this.handlers.runningJobIds()) {
        this.options.store.get(jobId).then(
          (stored) => {
            if (stored?.record.cancelRequestedAt) this.handlers.cancel(jobId);
          },
          // An unreadable record says nothing about a cancel; the next look may.
          () => undefined,
        );
      }
    }, intervalMs);
    timer.unref();
    this.options.shutdownSignal?.addEventListener('abort', () => clearInterval(timer), { once: true });
  }

  private deadLettered(record: JobRecord, { reason, description }: DeadLetterSettlement): JobRecord {
    return deadLetteredRecord(record, reason, description, this.now().toISOString());
  }

  /**
   * The record as submission created it, for a first attempt; any later one has moved on and must be read. Its
   * `updatedAt` is never written (the claim replaces it), so the message's own timestamp stands in for it.
   */
  private submittedRecord(job: JobMessage, etag: string): StoredJob | undefined {
    return job.attempt === 1 ? { record: newJobRecord(job, job.createdAt), etag } : undefined;
  }

  /** The job's record, created from the message when a producer other than our submission sent it. */
  private async storedJobOf({ job, received }: Delivery): Promise<StoredJob> {
    const { store } = this.options;
    const existing = await this.patiently(() => store.get(job.jobId));
    if (existing) return existing;
    const record = newJobRecord(job, this.now(), received.cycle ?? 1);
    // With its body, so the reconciler can send it again should its message go missing.
    const body = JSON.stringify(toWireBody(job));
    const created = await this.patiently(() => store.create(record, body));
    return created.created ? created.stored : created.existing;
  }

  /** A conditional write before the handler runs; a conflict sends the dispatcher back to deciding. */
  private async write(stored: StoredJob, next: JobRecord): Promise<StoredJob> {
    const etag = await this.patiently(() => this.options.store.replace(next, stored.etag));
    if (etag === undefined) throw new WriteConflict();
    return { record: next, etag };
  }

  /**
   * Records what a run came to, and returns the record written. The handler has already run, so a conflict is
   * resolved on the latest version instead of deciding again; `undefined` when another worker had meanwhile settled
   * the job for good. A job whose cancel was asked for while it ran ends Cancelled, whatever the run came to.
   */
  private async writeResult(
    claimed: StoredJob,
    change: (latest: JobRecord) => JobRecord,
  ): Promise<JobRecord | undefined> {
    const { store } = this.options;
    let current = claimed;
    for (let round = 1; round <= maxDecisionRounds; round += 1) {
      const changed = change(current.record);
      const next = changed.cancelRequestedAt ? cancelledRecord(changed, changed.updatedAt) : changed;
      if (await this.patiently(() => store.replace(next, current.etag))) return next;
      const latest = await this.patiently(() => store.get(current.record.jobId));
      if (!latest || isTerminalJobStatus(latest.record.status)) return undefined;
      current = latest;
    }
    throw new InfrastructureError(
      'StoreUnavailable',
      'The job record kept changing while the result was written.',
    );
  }

  /**
   * A store or queue call that waits out an outage rather than failing the delivery: see `outageToleranceMs`.
   * Shutdown ends the waiting, and the message goes back to the queue.
   */
  private patiently<T>(operation: () => Promise<T>): Promise<T> {
    return untilAvailable(operation, {
      toleranceMs: this.outageToleranceMs,
      signal: this.options.shutdownSignal,
      onRetry: (error, retryInMs) =>
        this.options.logger.warn('Store or queue unavailable; holding the message and trying again', {
          error: errorMessage(error),
          retryInMs,
        }),
    });
  }

  private outcomeOf(job: JobMessage, attempt: number, result: RunResult, durationMs: number): JobOutcome {
    return {
      jobId: job.jobId,
      jobType: job.jobType,
      status: result.status,
      durationMs: Math.round(durationMs * 1000) / 1000,
      errorMessage: result.status === 'Completed' ? null : shorten(result.error),
      attempt,
      completedAt: isoTimestamp(this.now()),
    };
  }
}

type DeadLetterSettlement = Extract<Settlement, { kind: 'deadLetter' }>;

const completionNotes = {
  AlreadyCompleted: 'Completing a redelivery of a job that already completed',
  Superseded: 'Completing an older copy of the job: a later attempt has taken its place',
  Cancelled: 'Completing a message of a cancelled job without running it',
} as const;

/** Thrown by a conditional write that lost to another writer; never leaves the dispatcher. */
class WriteConflict extends Error {}

function deadLetter(reason: DeadLetterReason, description: string): DeadLetterSettlement {
  return { kind: 'deadLetter', reason, description: shorten(description) };
}

/** The trace a retry or recheck copy carries on: this processing's span, or the sender's when telemetry is off. */
function traceParentOf({ trace, received }: Delivery): string | undefined {
  return trace ? formatTraceParent(trace) : received.traceParent;
}

/** The outcomes with one more, only the latest `maxOutcomesKept` of them. */
function withOutcome(outcomes: readonly JobOutcome[], outcome: JobOutcome): JobOutcome[] {
  return outcomes.length < maxOutcomesKept
    ? [...outcomes, outcome]
    : [...outcomes.slice(outcomes.length - maxOutcomesKept + 1), outcome];
}

function shorten(text: string): string {
  return text.length > maxDescriptionLength ? `${text.slice(0, maxDescriptionLength - 1)}…` : text;
}
