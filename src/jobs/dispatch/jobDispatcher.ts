import type { HandlerMatch, HandlerRegistry } from '../jobTypes/handlerRegistry';
import { recheckMessageOf, retryMessageOf } from '../model/outgoingJobMessage';
import type { JobQueue } from '../ports/jobQueue';
import type { JobStore, StoredJob } from '../ports/jobStore';
import { JobTelemetry } from '../observability/jobTelemetry';
import type { Telemetry } from '../ports/telemetry';
import { noTelemetry } from '../ports/telemetry';
import type { TraceContext } from '../observability/traceContext';
import { continueTrace, formatTraceParent } from '../observability/traceContext';
import type { DeadLetterReason } from '../model/deadLetterReason';
import { errorMessage, isInfrastructureError } from '../errors';
import { isoTimestamp } from '../model/isoTimestamp';
import type { JobMessage } from '../model/jobMessage';
import { parseJobMessage, toWireBody } from '../model/jobMessage';
import type { DeliveryDecision, RunDecision, RunResult } from './jobDecision';
import { decideAfterRun, decideDelivery } from './jobDecision';
import type { JobOutcome } from '../model/jobOutcome';
import type { JobProgress, JobRecord } from '../model/jobRecord';
import { newJobRecord } from '../model/jobRecord';
import type { JobEvent, RunNext } from '../model/jobTransitions';
import { transition } from '../model/jobTransitions';
import type { RecordChange } from '../support/changeRecord';
import { changeRecord } from '../support/changeRecord';
import type { Logger } from '../support/logger';
import type { ReceivedJobMessage } from '../model/receivedJobMessage';
import type { Settlement } from './settlement';
import { HandlerRunner } from './handlerRunner';
import { ProgressReporter } from './progressReporter';
import type { OutageTolerance } from '../support/untilAvailable';
import { untilAvailable } from '../support/untilAvailable';
import type { Clock } from '../ports/clock';
import { systemClock } from '../ports/clock';
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
  /** What waits for an outage to pass are measured and waited on; `now` comes from it unless given. */
  clock?: Clock;
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

/**
 * Turns one received message into exactly one settlement: runs the job's handler at most once per delivery,
 * records every step on the job record, and schedules retries itself. Knows nothing of the transport. What to do
 * is decided by two pure functions (`decideDelivery`, `decideAfterRun`); this class does the I/O around them.
 */
export class JobDispatcher {
  private readonly now: () => Date;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly workerId: string;
  private readonly claimGraceMs: number;
  /** How `patiently` waits out an outage; made once, since every store call of every job goes through it. */
  private readonly outageTolerance: OutageTolerance;
  private readonly events: JobTelemetry;
  private readonly handlers: HandlerRunner;
  /** The store as the dispatcher writes it: each call waits out an outage (see `outageToleranceMs`). */
  private readonly patientStore: Pick<JobStore, 'get' | 'replace' | 'remove'>;

  constructor(private readonly options: JobDispatcherOptions) {
    this.clock = options.clock ?? systemClock;
    this.now = options.now ?? (() => this.clock.now());
    this.random = options.random ?? Math.random;
    this.workerId = options.workerId ?? newWorkerId();
    this.claimGraceMs = options.claimGraceMs ?? 10_000;
    this.outageTolerance = {
      clock: this.clock,
      toleranceMs: options.outageToleranceMs ?? 240_000,
      signal: options.shutdownSignal,
      onRetry: (error, retryInMs) =>
        options.logger.warn('Store or queue unavailable; holding the message and trying again', {
          error: errorMessage(error),
          retryInMs,
        }),
    };
    this.events = new JobTelemetry(options.telemetry ?? noTelemetry);
    this.handlers = new HandlerRunner({ shutdownSignal: options.shutdownSignal });
    const { store } = options;
    this.patientStore = {
      get: (jobId) => this.patiently(() => store.get(jobId)),
      replace: (record, etag) => this.patiently(() => store.replace(record, etag)),
      remove: (jobId, etag) => this.patiently(() => store.remove(jobId, etag)),
    };
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
    const match = this.options.registry.match(job);
    const decide = (record: JobRecord) => this.decideOn(record, delivery, match);
    // A record our submission just wrote need not be read first (its ETag came with the message); if anything
    // changed it since, the claim conflicts and the loop reads it and decides again.
    const submitted = this.submittedRecord(job, received);
    const decided =
      (submitted && (await changeRecord(this.patientStore, submitted, decide))) ??
      (await changeRecord(this.patientStore, await this.storedJobOf(delivery), decide));
    // Only a removal between the record's creation and its read leaves none: the broker delivers the message again.
    if (!decided?.stored) throw new Error(`Job ${job.jobId} has no record to decide on.`);
    const { result: decision, stored } = decided;
    const { record } = stored;
    switch (decision.kind) {
      case 'notStarted':
        // Shutting down: the job is not started, so no attempt is spent; the broker delivers it again elsewhere.
        return { kind: 'abandon', description: 'The app is shutting down; the job was not started.' };
      case 'complete':
        logger.info(completionNotes[decision.why], {
          recordAttempt: record.attempt,
          recordStatus: record.status,
        });
        return { kind: 'complete' };
      case 'cancel':
        return this.reportCancelled(delivery, record);
      case 'deadLetter': {
        const settlement = deadLetter(decision.reason, decision.description);
        if (decision.recordIt) this.reportDeadLetter(delivery, record.attempt, settlement);
        return settlement;
      }
      case 'recheck':
        return this.recheckAfterClaim(delivery, record, decision.at);
      case 'ensureRetry': {
        const retry = retryMessageOf(job, decision.cycle, decision.attempt, traceParentOf(delivery));
        await this.patiently(() => this.options.retryQueue.schedule(retry, decision.at));
        logger.info(
          'Completing the original of an attempt whose retry is pending; the retry copy is scheduled',
          { nextAttempt: decision.attempt, at: decision.at.toISOString() },
        );
        return { kind: 'complete' };
      }
      case 'run':
        if (!match.ok) throw new Error('A job without a handler cannot run.');
        return this.run(
          match,
          { ...delivery, logger: logger.child({ attempt: decision.attempt }) },
          stored,
          decision.attempt,
        );
    }
  }

  /**
   * What to do with the delivery, given the record as it stands, and the record change that goes with it: the claim
   * of a run (one conditional write, so of two workers that read the same version only one runs the handler), a
   * cancel completed, a dead-letter recorded. Decided again on the newer version when the write conflicts.
   */
  private decideOn(
    record: JobRecord,
    { job, received }: Delivery,
    match: HandlerMatch,
  ): RecordChange<DeliveryDecision | NotStarted> {
    const now = this.now();
    const decision = decideDelivery(
      record,
      { cycle: received.cycle ?? 1, attempt: job.attempt, maxAttempts: job.maxAttempts },
      match,
      now,
      isGoneLocalWorker(record.claimedBy, this.workerId),
    );
    let event: JobEvent;
    switch (decision.kind) {
      case 'run':
        if (this.options.shutdownSignal?.aborted || !match.ok) return { keep: notStarted };
        event = {
          type: 'Claimed',
          cycle: decision.cycle,
          attempt: decision.attempt,
          deliveredAttempt: job.attempt,
          workerId: this.workerId,
          claimExpiresAt: isoTimestamp(
            new Date(now.getTime() + match.policy.handlerTimeoutMs + this.claimGraceMs),
          ),
        };
        break;
      case 'cancel':
        event = { type: 'CancelCompleted' };
        break;
      case 'deadLetter':
        if (!decision.recordIt) return { keep: decision };
        event = { type: 'DeadLettered', reason: decision.reason, description: shorten(decision.description) };
        break;
      default:
        return { keep: decision };
    }
    const next = transition(record, event, now);
    return next.ok ? { write: next.record, result: decision } : { keep: decision };
  }

  private async run(
    { handler, policy, payload }: Extract<HandlerMatch, { ok: true }>,
    delivery: Delivery,
    claimed: StoredJob,
    attempt: number,
  ): Promise<Settlement> {
    const { job, received, logger, trace } = delivery;
    const { cycle } = claimed.record;
    if (this.events.enabled) {
      const queueLatencyMs = received.enqueuedTime && this.now().getTime() - received.enqueuedTime.getTime();
      this.events.started(job, attempt, trace, queueLatencyMs);
    }
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
    const ended = { outcome, progress };

    const decision = decideAfterRun(result, attempt, job.maxAttempts, policy.retry, this.now(), this.random);
    switch (decision.kind) {
      case 'complete': {
        const written = await this.writeResult(current, ended, { status: 'Completed' });
        if (written?.status === 'Cancelled') return this.reportCancelled(delivery, written);
        logger.info(written ? 'Job completed' : 'Job completed, but another worker had settled it first', {
          durationMs: outcome.durationMs,
        });
        if (written) this.events.completed(job, attempt, trace, outcome.durationMs);
        return { kind: 'complete' };
      }
      case 'deadLetter': {
        const settlement = deadLetter(decision.reason, decision.description);
        const written = await this.writeResult(current, ended, { status: 'DeadLettered', ...settlement });
        if (!written) return { kind: 'complete' };
        if (written.status === 'Cancelled') return this.reportCancelled(delivery, written);
        this.reportDeadLetter(delivery, attempt, settlement);
        return settlement;
      }
      case 'abandon': {
        const due = isoTimestamp(this.now());
        const written = await this.writeResult(current, ended, { status: 'Retrying', nextAttemptAt: due });
        if (written?.status === 'Cancelled') return this.reportCancelled(delivery, written);
        logger.warn('Job interrupted by shutdown; given back to the queue');
        return { kind: 'abandon', description: decision.error };
      }
      case 'retry':
        return this.scheduleRetry(delivery, current, ended, cycle, attempt, decision);
    }
  }

  private async scheduleRetry(
    delivery: Delivery,
    claimed: StoredJob,
    ended: RunEnding,
    cycle: number,
    attempt: number,
    { at: enqueueAt, delayMs, error }: Extract<RunDecision, { kind: 'retry' }>,
  ): Promise<Settlement> {
    const { job, logger, trace } = delivery;
    const decidedAt = this.now();
    const written = await this.writeResult(claimed, ended, {
      status: 'Retrying',
      nextAttemptAt: enqueueAt.toISOString(),
    });
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

  /**
   * The record as submission created it, for the first delivery of a first attempt that carries its ETag. Any later
   * attempt has moved on, and a redelivery has most likely been claimed since (in host settlement a dead-lettered
   * job's message comes back up to MaxDeliveryCount times): those are read, one request instead of a conflicting
   * write and two reads. Its `updatedAt` is never written (the claim replaces it), so the message's own timestamp
   * stands in for it.
   */
  private submittedRecord(job: JobMessage, received: ReceivedJobMessage): StoredJob | undefined {
    const { recordEtag, deliveryCount } = received;
    if (!recordEtag || deliveryCount !== 1 || job.attempt !== 1) return undefined;
    return { record: newJobRecord(job, job.createdAt), etag: recordEtag };
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

  /**
   * Records what a run came to, and returns the record written: a newer version (a cancel request, progress) takes
   * the result all the same; `undefined` when another worker had meanwhile settled the job for good. A job whose
   * cancel was asked for while it ran ends Cancelled, whatever the run came to.
   */
  private async writeResult(
    claimed: StoredJob,
    { outcome, progress }: RunEnding,
    next: RunNext,
  ): Promise<JobRecord | undefined> {
    const changed = await changeRecord(this.patientStore, claimed, (latest) => {
      const ended = transition(latest, { type: 'RunEnded', outcome, progress, next }, this.now());
      return ended.ok ? { write: ended.record, result: ended.record } : { keep: undefined };
    });
    return changed?.result;
  }

  /**
   * A store or queue call that waits out an outage rather than failing the delivery: see `outageToleranceMs`.
   * Shutdown ends the waiting, and the message goes back to the queue.
   */
  private patiently<T>(operation: () => Promise<T>): Promise<T> {
    return untilAvailable(operation, this.outageTolerance);
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

/** What a run came to, for its record: the attempt's outcome and the handler's last progress report. */
interface RunEnding {
  readonly outcome: JobOutcome;
  readonly progress: JobProgress | null;
}

/** A run decided on while the app shuts down: not started, so no attempt is spent. */
type NotStarted = { readonly kind: 'notStarted' };
const notStarted: NotStarted = { kind: 'notStarted' };

const completionNotes = {
  AlreadyCompleted: 'Completing a redelivery of a job that already completed',
  Superseded: 'Completing an older copy of the job: a later attempt has taken its place',
  Cancelled: 'Completing a message of a cancelled job without running it',
} as const;

function deadLetter(reason: DeadLetterReason, description: string): DeadLetterSettlement {
  return { kind: 'deadLetter', reason, description: shorten(description) };
}

/** The trace a retry or recheck copy carries on: this processing's span, or the sender's when telemetry is off. */
function traceParentOf({ trace, received }: Delivery): string | undefined {
  return trace ? formatTraceParent(trace) : received.traceParent;
}

function shorten(text: string): string {
  return text.length > maxDescriptionLength ? `${text.slice(0, maxDescriptionLength - 1)}…` : text;
}
