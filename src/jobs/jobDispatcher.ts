import type { RetrySettings } from '../config';
import type { HandlerRegistry } from '../handlers/handlerRegistry';
import type { JobHandler, JobHandlerContext } from '../handlers/jobHandler';
import { retryMessageOf } from '../queue/outgoingJobMessage';
import type { JobQueue } from '../queue/jobQueue';
import type { JobStore } from '../store/jobStore';
import type { DeadLetterReason } from './deadLetterReason';
import { JobsError, errorMessage, isInfrastructureError, isPermanentJobError } from './errors';
import type { JobMessage } from './jobMessage';
import { parseJobMessage } from './jobMessage';
import type { JobOutcome, JobOutcomeStatus } from './jobOutcome';
import type { JobRecord } from './jobRecord';
import { newJobRecord } from './jobRecord';
import type { Logger } from './logger';
import type { ReceivedJobMessage } from './receivedJobMessage';
import { retryDelayMs } from './retryPolicy';
import type { Settlement } from './settlement';

export interface JobDispatcherOptions {
  registry: HandlerRegistry;
  store: JobStore;
  /** Where retry copies are scheduled: the same queue the job came from. */
  retryQueue: Pick<JobQueue, 'schedule'>;
  retry: RetrySettings;
  handlerTimeoutMs: number;
  logger: Logger;
  /** Aborted when the app shuts down; running handlers see it through their own signal. */
  shutdownSignal?: AbortSignal;
  now?: () => Date;
  random?: () => number;
}

type RunResult =
  | { status: 'Completed' }
  | { status: Exclude<JobOutcomeStatus, 'Completed'>; error: string; interruptedByShutdown: boolean };

// Service Bus keeps dead-letter descriptions short; so do we, everywhere.
const maxDescriptionLength = 1024;

/**
 * Turns one received message into exactly one settlement: runs the job's handler at most once per delivery,
 * records every step on the job record, and schedules retries itself. Knows nothing of the transport.
 */
export class JobDispatcher {
  private readonly now: () => Date;
  private readonly random: () => number;
  /** Interrupts for the handlers running now: one shutdown listener for all of them, not one each. */
  private readonly interrupts = new Set<() => void>();

  constructor(private readonly options: JobDispatcherOptions) {
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    options.shutdownSignal?.addEventListener(
      'abort',
      () => this.interrupts.forEach((interrupt) => interrupt()),
      {
        once: true,
      },
    );
  }

  async dispatch(received: ReceivedJobMessage): Promise<Settlement> {
    const parsed = parseJobMessage(received.body);
    if (!parsed.ok) {
      this.options.logger.warn('Dead-lettering a message that is not a job', {
        messageId: received.messageId,
        description: parsed.description,
      });
      return deadLetter('InvalidFormat', parsed.description);
    }
    const job = parsed.job;
    const logger = this.options.logger.child({
      jobId: job.jobId,
      jobType: job.jobType,
      correlationId: job.correlationId,
      messageId: received.messageId,
    });
    try {
      return await this.dispatchJob(job, received, logger);
    } catch (error) {
      // Our own fault (store, scheduling, a bug): let the broker redeliver rather than decide on partial knowledge.
      const description = `Processing failed before the job could be settled: ${errorMessage(error)}`;
      logger.error(description, { infrastructure: isInfrastructureError(error) });
      return { kind: 'abandon', description };
    }
  }

  private async dispatchJob(
    job: JobMessage,
    received: ReceivedJobMessage,
    logger: Logger,
  ): Promise<Settlement> {
    const { registry } = this.options;
    const record = await this.recordOf(job);
    if (record.jobId !== job.jobId) {
      logger.info('Completing a duplicate of an existing job (same idempotency key)', {
        existingJobId: record.jobId,
      });
      return { kind: 'complete' };
    }
    if (record.status === 'Completed') {
      logger.info('Completing a redelivery of a job that already completed');
      return { kind: 'complete' };
    }
    if (record.status === 'DeadLettered' && record.deadLetterReason) {
      // Host settlement cannot dead-letter: the message keeps coming back until MaxDeliveryCount. Never rerun it.
      return deadLetter(record.deadLetterReason, record.deadLetterDescription ?? '');
    }

    const handler = registry.get(job.jobType);
    if (!handler) {
      const known = registry.jobTypes().join(', ') || 'none';
      return this.deadLetterJob(
        record,
        'NoHandler',
        `No handler for job type '${job.jobType}' (known: ${known}).`,
        logger,
      );
    }
    const payload = handler.payloadSchema.safeParse(job.payload);
    if (!payload.success) {
      const problems = payload.error.issues.map(
        (issue) => `payload.${issue.path.join('.')}: ${issue.message}`,
      );
      return this.deadLetterJob(
        record,
        'InvalidPayload',
        `The payload does not match '${job.jobType}': ${problems.join('; ')}.`,
        logger,
      );
    }

    // Both counters can run ahead of the other: scheduled retries advance `attempt`, redeliveries after a crash or
    // abandon advance the delivery count, and the record counts runs this store has seen.
    const attempt = Math.max(job.attempt + received.deliveryCount - 1, record.attempt + 1);
    if (attempt > job.maxAttempts) {
      return this.deadLetterJob(
        record,
        'MaxRetriesExceeded',
        `No attempts left: this would be attempt ${attempt} of ${job.maxAttempts}.`,
        logger,
      );
    }
    return this.run(handler, payload.data, job, record, attempt, logger.child({ attempt }));
  }

  private async run(
    handler: JobHandler,
    payload: unknown,
    job: JobMessage,
    queued: JobRecord,
    attempt: number,
    logger: Logger,
  ): Promise<Settlement> {
    const started = this.now();
    let record: JobRecord = {
      ...queued,
      status: 'Running',
      attempt,
      startedAt: queued.startedAt ?? started.toISOString(),
      updatedAt: started.toISOString(),
      nextAttemptAt: null,
    };
    await this.options.store.update(record);

    const startedAtMs = performance.now();
    const result = await this.runHandler(handler, payload, job, attempt, logger);
    const outcome = this.outcomeOf(job, attempt, result, performance.now() - startedAtMs);
    record = {
      ...record,
      lastOutcome: outcome,
      outcomes: [...record.outcomes, outcome],
      updatedAt: outcome.completedAt,
    };

    if (result.status === 'Completed') {
      await this.options.store.update({ ...record, status: 'Completed', completedAt: outcome.completedAt });
      logger.info('Job completed', { durationMs: outcome.durationMs });
      return { kind: 'complete' };
    }
    if (result.status === 'Poisoned') {
      return this.deadLetterJob(record, 'Poisoned', result.error, logger);
    }
    if (result.interruptedByShutdown) {
      await this.options.store.update({ ...record, status: 'Retrying' });
      logger.warn('Job interrupted by shutdown; abandoning it for redelivery');
      return { kind: 'abandon', description: result.error };
    }
    if (attempt >= job.maxAttempts) {
      return this.deadLetterJob(
        record,
        'MaxRetriesExceeded',
        `Failed ${attempt} of ${job.maxAttempts} attempts; last error: ${result.error}`,
        logger,
      );
    }
    return this.scheduleRetry(job, record, attempt, result.error, logger);
  }

  private async scheduleRetry(
    job: JobMessage,
    record: JobRecord,
    attempt: number,
    error: string,
    logger: Logger,
  ): Promise<Settlement> {
    const delayMs = retryDelayMs(attempt, this.options.retry, this.random);
    const enqueueAt = new Date(this.now().getTime() + delayMs);
    await this.options.store.update({
      ...record,
      status: 'Retrying',
      nextAttemptAt: enqueueAt.toISOString(),
    });
    // The original is completed only once its successor is safely scheduled; if scheduling throws, the dispatcher
    // abandons and the broker redelivers the original.
    await this.options.retryQueue.schedule(retryMessageOf(job, attempt + 1), enqueueAt);
    logger.warn('Job failed; retry scheduled', { error, delayMs, nextAttempt: attempt + 1 });
    return { kind: 'complete' };
  }

  private async deadLetterJob(
    record: JobRecord,
    reason: DeadLetterReason,
    description: string,
    logger: Logger,
  ): Promise<Settlement> {
    const settlement = deadLetter(reason, description);
    const now = this.now().toISOString();
    await this.options.store.update({
      ...record,
      status: 'DeadLettered',
      deadLetterReason: reason,
      deadLetterDescription: settlement.description,
      completedAt: now,
      updatedAt: now,
      nextAttemptAt: null,
    });
    logger.warn('Job dead-lettered', { reason, description: settlement.description });
    return settlement;
  }

  /** The job's record, created from the message when a producer other than our submission sent it. */
  private async recordOf(job: JobMessage): Promise<JobRecord> {
    const existing = await this.options.store.get(job.jobId);
    if (existing) return existing;
    const created = await this.options.store.create(newJobRecord(job, this.now()));
    return created.created ? created.record : created.existing;
  }

  private async runHandler(
    handler: JobHandler,
    payload: unknown,
    job: JobMessage,
    attempt: number,
    logger: Logger,
  ): Promise<RunResult> {
    const { shutdownSignal, handlerTimeoutMs } = this.options;
    // The signal is made on first use: most handlers never read it, and an AbortController per job is measurable.
    let controller: AbortController | undefined;
    let abortReason: JobsError | undefined;
    const context: JobHandlerContext = {
      job,
      attempt,
      logger,
      get signal() {
        controller ??= new AbortController();
        if (abortReason && !controller.signal.aborted) controller.abort(abortReason);
        return controller.signal;
      },
    };
    let timer: NodeJS.Timeout | undefined;
    let interrupt: (() => void) | undefined;
    try {
      // A handler that ignores its signal cannot hold the message past its timeout: this settles without it.
      await new Promise<void>((resolve, reject) => {
        const abort = (reason: JobsError): void => {
          abortReason = reason;
          controller?.abort(reason);
          reject(reason);
        };
        timer = setTimeout(
          () =>
            abort(
              new JobsError('HandlerTimedOut', `The handler did not finish within ${handlerTimeoutMs} ms.`),
            ),
          handlerTimeoutMs,
        );
        interrupt = () => abort(new JobsError('ShuttingDown', 'The handler was interrupted by shutdown.'));
        if (shutdownSignal?.aborted) interrupt();
        else this.interrupts.add(interrupt);
        handler.handle(payload, context).then(resolve, reject);
      });
      return { status: 'Completed' };
    } catch (error) {
      // The abort reason explains a handler that merely rethrew the AbortError its sleep or fetch raised.
      const cause = abortReason ?? error;
      const interruptedByShutdown = cause instanceof JobsError && cause.code === 'ShuttingDown';
      if (isPermanentJobError(error))
        return { status: 'Poisoned', error: errorMessage(error), interruptedByShutdown };
      return { status: 'Failed', error: errorMessage(cause), interruptedByShutdown };
    } finally {
      clearTimeout(timer);
      if (interrupt) this.interrupts.delete(interrupt);
    }
  }

  private outcomeOf(job: JobMessage, attempt: number, result: RunResult, durationMs: number): JobOutcome {
    return {
      jobId: job.jobId,
      jobType: job.jobType,
      status: result.status,
      durationMs: Math.round(durationMs * 1000) / 1000,
      errorMessage: result.status === 'Completed' ? null : result.error,
      attempt,
      completedAt: this.now().toISOString(),
    };
  }
}

function deadLetter(
  reason: DeadLetterReason,
  description: string,
): Extract<Settlement, { kind: 'deadLetter' }> {
  const short =
    description.length > maxDescriptionLength
      ? `${description.slice(0, maxDescriptionLength - 1)}…`
      : description;
  return { kind: 'deadLetter', reason, description: short };
}
