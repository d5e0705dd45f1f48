import { setMaxListeners } from 'node:events';
import type { AppConfig } from './config';
import type { DocumentStore } from './documents/documentStore';
import { InMemoryDocumentStore } from './documents/inMemoryDocumentStore';
import type { HandlerRegistry } from './jobs/jobTypes/handlerRegistry';
import { createHandlerRegistry } from './handlers/registeredHandlers';
import { DeadLetterService } from './jobs/operators/deadLetterService';
import { JobDispatcher } from './jobs/dispatch/jobDispatcher';
import { JobReconciler } from './jobs/maintenance/jobReconciler';
import { JobSubmissionService } from './jobs/submission/jobSubmissionService';
import { OutboxSender } from './jobs/submission/outboxSender';
import type { Logger } from './jobs/support/logger';
import type { LogWriter } from './jobs/support/logger';
import { JobCancellation } from './jobs/operators/jobCancellation';
import { JobRetention } from './jobs/maintenance/jobRetention';
import { createLogger, resolveLogFormat } from './jobs/support/logger';
import { settle } from './jobs/dispatch/settlement';
import type { DeadLetterQueue } from './jobs/ports/deadLetterQueue';
import { InMemoryJobQueue } from './queue/inMemoryJobQueue';
import type { JobQueue } from './jobs/ports/jobQueue';
import {
  createServiceBusAdministrationClient,
  createServiceBusClient,
} from './queue/serviceBusClientFactory';
import { ServiceBusQueueDepth } from './queue/serviceBusQueueDepth';
import { ServiceBusDeadLetterQueue } from './queue/serviceBusDeadLetterQueue';
import { ServiceBusJobQueue } from './queue/serviceBusJobQueue';
import { InMemoryJobStore } from './store/inMemoryJobStore';
import { createStorageStores } from './store/storageStores';
import type { JobStore } from './jobs/ports/jobStore';
import { createTelemetry } from './telemetry/createTelemetry';
import type { QueueDepthReader } from './jobs/ports/queueDepth';
import type { Telemetry } from './jobs/ports/telemetry';

/** Everything the functions need, wired once per process from the validated settings. */
export interface JobsRuntime {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly registry: HandlerRegistry;
  readonly store: JobStore;
  readonly queue: JobQueue;
  /** How many messages the queue holds: for operators (the dashboard, `GET /api/jobstats`). */
  readonly queueDepth: QueueDepthReader;
  readonly documents: DocumentStore;
  readonly dispatcher: JobDispatcher;
  readonly submission: JobSubmissionService;
  /** Cancelling jobs, queued or running. */
  readonly cancellation: JobCancellation;
  /** Listing, replaying and discarding dead-lettered jobs. */
  readonly deadLetters: DeadLetterService;
  /** Moves on jobs that stopped moving: run by the timer function, and by the local host. */
  readonly reconciler: JobReconciler;
  /** Removes finished jobs past retention: run by its timer function, and by the local host. */
  readonly retention: JobRetention;
  readonly telemetry: Telemetry;
  /** The in-memory queue in embedded mode (`Jobs__UseServiceBus=false`), else undefined. */
  readonly embeddedQueue: InMemoryJobQueue | undefined;
  /** Aborted when the app stops; running handlers see it through their signal. */
  readonly shutdownSignal: AbortSignal;
  /** Starts processing the embedded queue; on Service Bus the trigger delivers messages instead. */
  start(): void;
  /**
   * Stops taking work, lets in-flight jobs finish up to `Jobs__ShutdownTimeoutMs`, then interrupts them. `consumers`
   * are other message sources to drain the same way (the local host's Service Bus trigger runner).
   */
  stop(consumers?: readonly MessageConsumer[]): Promise<ShutdownReport>;
}

/** What became of the jobs that were running when the app was asked to stop. */
export interface ShutdownReport {
  /** Jobs running when the stop began. */
  readonly running: number;
  /** Of those, the ones still running at the deadline and interrupted. */
  readonly interrupted: number;
  /**
   * Where an interrupted job went: back to Service Bus, which delivers it again; or, in embedded mode, nowhere: the
   * in-memory queue ends with the process.
   */
  readonly interruptedJobsGo: 'redelivered by Service Bus' | 'lost with the in-memory queue';
}

/** Something that delivers messages to the dispatcher and can stop doing so. */
export interface MessageConsumer {
  /** Messages handed to the dispatcher and not yet settled. */
  readonly inFlightCount: number;
  /** Stops taking messages; resolves `true` once in-flight ones are settled, `false` if `timeoutMs` passed first. */
  stopProcessing(timeoutMs: number): Promise<boolean>;
}

export interface RuntimeOverrides {
  logger?: Logger;
  /** Where the app's logger writes, when no `logger` is given: stdout by default. */
  logWriter?: LogWriter;
  store?: JobStore;
  documents?: DocumentStore;
  queue?: JobQueue;
  deadLetterQueue?: DeadLetterQueue;
  queueDepth?: QueueDepthReader;
  telemetry?: Telemetry;
}

// After the drain deadline, interrupted handlers get this long to unwind and settle.
const interruptGraceMs = 5_000;

export function createJobsRuntime(config: AppConfig, overrides: RuntimeOverrides = {}): JobsRuntime {
  const logger =
    overrides.logger ??
    createLogger(config.logLevel, {
      format: resolveLogFormat(config.logFormat, process.stdout),
      write: overrides.logWriter,
      base: { app: 'sdap-jobs' },
    });
  const telemetry = overrides.telemetry ?? createTelemetry(config.telemetry, logger);
  const storage = config.store.kind === 'table' ? createStorageStores(config.store) : undefined;
  const documents = overrides.documents ?? storage?.documents ?? new InMemoryDocumentStore();
  const store =
    overrides.store ?? storage?.store ?? new InMemoryJobStore(config.retention.maxFinishedInMemory);
  const registry = createHandlerRegistry({
    documents,
    enableDiagnostics: config.enableDiagnostics,
    policyDefaults: config,
  });
  const embeddedQueue = config.useServiceBus
    ? undefined
    : new InMemoryJobQueue({
        queueName: config.serviceBus.queueName,
        lockDurationMs: config.inMemoryQueue.lockDurationMs,
        maxDeliveryCount: config.inMemoryQueue.maxDeliveryCount,
        maxConcurrency: config.maxConcurrency,
      });
  const queue =
    overrides.queue ??
    embeddedQueue ??
    new ServiceBusJobQueue(createServiceBusClient(config.serviceBus), config.serviceBus.queueName);
  const shutdown = new AbortController();
  // Every delivery waiting out an outage listens for shutdown meanwhile: as many as run at once, so no limit.
  setMaxListeners(0, shutdown.signal);
  const dispatcher = new JobDispatcher({
    registry,
    store,
    retryQueue: queue,
    claimGraceMs: config.claimGraceMs,
    outageToleranceMs: config.outageToleranceMs,
    // One process in embedded mode: a cancel there reaches the run directly.
    cancelCheckIntervalMs: config.useServiceBus ? config.cancelCheckIntervalMs : 0,
    logger,
    telemetry,
    shutdownSignal: shutdown.signal,
  });
  const sender = new OutboxSender({ queue, logger, shutdownSignal: shutdown.signal });
  const submission = new JobSubmissionService({ registry, store, sender, logger, telemetry });

  // On Service Bus its own client: operators' reads and locks never share the connection jobs are sent on.
  const deadLetterQueue =
    overrides.deadLetterQueue ??
    (queue instanceof InMemoryJobQueue
      ? queue
      : new ServiceBusDeadLetterQueue(
          createServiceBusClient(config.serviceBus),
          config.serviceBus.queueName,
        ));
  const queueDepth =
    overrides.queueDepth ??
    (queue instanceof InMemoryJobQueue
      ? queue
      : new ServiceBusQueueDepth(
          createServiceBusAdministrationClient(config.serviceBus),
          config.serviceBus.queueName,
        ));
  const cancellation = new JobCancellation({
    store,
    cancelRunning: (jobId) => dispatcher.cancelRunning(jobId),
    logger,
    telemetry,
  });
  const deadLetters = new DeadLetterService({
    deadLetters: deadLetterQueue,
    queue,
    store,
    registry,
    logger,
    telemetry,
  });

  const reconciler = new JobReconciler({
    store,
    queue,
    deadLetters: deadLetterQueue,
    logger,
    telemetry,
    staleAfterMs: config.reconciler.staleAfterMs,
  });
  const retention = new JobRetention({ store, retentionDays: config.retention.days, logger });

  logger.info('sdap-jobs configured', {
    mode: queue.transport,
    queue: queue.queueName,
    settlement: config.useServiceBus ? config.serviceBus.settlement : 'in-memory',
    store: config.store.kind,
    telemetry: telemetry.enabled ? 'application-insights' : 'off',
    jobTypes: registry.jobTypes(),
  });

  return {
    config,
    logger,
    registry,
    store,
    queue,
    queueDepth,
    documents,
    dispatcher,
    submission,
    cancellation,
    deadLetters,
    reconciler,
    retention,
    telemetry,
    embeddedQueue,
    shutdownSignal: shutdown.signal,
    start() {
      embeddedQueue?.startProcessing(async (delivery) => {
        const settlement = await dispatcher.dispatch(delivery.message);
        await settle(settlement, delivery).catch((error: unknown) =>
          logger.warn('Settling an embedded message failed', {
            messageId: delivery.message.messageId,
            error: String(error),
          }),
        );
      });
    },
    async stop(consumers = []) {
      const all = embeddedQueue ? [embeddedQueue, ...consumers] : consumers;
      const inFlight = () => all.reduce((sum, consumer) => sum + consumer.inFlightCount, 0);
      const running = inFlight();
      if (running > 0) {
        logger.info('Waiting for running jobs to finish', {
          running,
          upToMs: config.shutdownTimeoutMs,
          setting: 'Jobs__ShutdownTimeoutMs',
        });
      }
      const drained = await Promise.all(
        all.map((consumer) => consumer.stopProcessing(config.shutdownTimeoutMs)),
      );
      let interrupted = 0;
      if (drained.includes(false)) {
        interrupted = inFlight();
        logger.warn('Running jobs did not finish before the shutdown deadline; interrupting them', {
          interrupted,
          afterMs: config.shutdownTimeoutMs,
        });
        shutdown.abort();
        await Promise.all(all.map((consumer) => consumer.stopProcessing(interruptGraceMs)));
      }
      shutdown.abort();
      await queue.close();
      // In embedded mode the same in-memory queue: closing it twice is harmless.
      await deadLetterQueue.close();
      await telemetry
        .close()
        .catch((error: unknown) =>
          logger.warn('Sending the last telemetry failed', { error: String(error) }),
        );
      return {
        running,
        interrupted,
        interruptedJobsGo: embeddedQueue ? 'lost with the in-memory queue' : 'redelivered by Service Bus',
      };
    },
  };
}
