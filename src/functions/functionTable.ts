import type { HttpHandler, HttpMethod, ServiceBusQueueHandler, TimerHandler } from '@azure/functions';
import type { JobsRuntime } from '../runtime';
import { createCancelJob } from './cancelJob';
import { createDashboard } from './dashboard';
import { createDashboardAsset } from './dashboardAsset';
import { createDiscardDeadLetter } from './discardDeadLetter';
import { createDiscardDeadLetters } from './discardDeadLetters';
import { createGetJob } from './getJob';
import { createGetJobStats } from './getJobStats';
import { withHeadAndOptions } from './headAndOptions';
import { createHealth } from './health';
import { createListDeadLetters } from './listDeadLetters';
import { createListJobTypes } from './listJobTypes';
import { createListJobs } from './listJobs';
import { createProcessJobExplicitlySettled, createProcessJobHostSettled } from './processJob';
import { createPurgeFinishedJobs, purgeFinishedJobsSchedule } from './purgeFinishedJobs';
import { createReconcileJobs, reconcileJobsSchedule } from './reconcileJobs';
import { createReplayDeadLetter } from './replayDeadLetter';
import { createReplayDeadLetters } from './replayDeadLetters';
import { createSubmitJob } from './submitJob';

export interface HttpFunctionDefinition {
  readonly kind: 'http';
  readonly name: string;
  /** With `HEAD` (where `GET` is) and `OPTIONS`, which every route answers (`withHeadAndOptions`). */
  readonly methods: HttpMethod[];
  /** Relative to the `api/` prefix. */
  readonly route: string;
  readonly authLevel: 'anonymous' | 'function' | 'admin';
  readonly handler: HttpHandler;
}

export interface ServiceBusQueueFunctionDefinition {
  readonly kind: 'serviceBusQueue';
  readonly name: string;
  /** An app-setting expression, resolved by the host. */
  readonly queueName: string;
  /** The app-setting prefix of the connection (`ServiceBusConnection`, or `ServiceBusConnection__*`). */
  readonly connection: string;
  readonly autoCompleteMessages: boolean;
  readonly sdkBinding: boolean;
  readonly handler: ServiceBusQueueHandler;
}

export interface TimerFunctionDefinition {
  readonly kind: 'timer';
  readonly name: string;
  /**
   * NCRONTAB, or `%Setting%` naming an app setting that holds it: the host resolves it from app settings (so
   * production sets it), the local host from the validated settings (`timerSchedule` in src/config.ts).
   */
  readonly schedule: string;
  readonly handler: TimerHandler;
}

export type FunctionDefinition =
  HttpFunctionDefinition | ServiceBusQueueFunctionDefinition | TimerFunctionDefinition;

/**
 * Every function of the app, read both by the Functions entry point (`src/index.ts`) and by the local host. The
 * queue trigger exists only on Service Bus; in embedded mode the runtime drains the in-memory queue itself.
 */
export function createFunctionTable(runtime: JobsRuntime): FunctionDefinition[] {
  const { telemetry } = runtime;
  const table = definitionsOf(runtime);
  const http = withHeadAndOptions(
    table.filter((definition): definition is HttpFunctionDefinition => definition.kind === 'http'),
  );
  const definitions = [...http, ...table.filter((definition) => definition.kind !== 'http')];
  if (!telemetry.enabled) return definitions;
  // Every invocation is an activity, so telemetry that is slow to load waits for the app to be idle.
  return definitions.map((definition): FunctionDefinition => {
    if (definition.kind === 'http') {
      const { handler } = definition;
      const tracked: HttpHandler = (request, context) =>
        telemetry.trackActivity(async () => handler(request, context));
      return { ...definition, handler: tracked };
    }
    if (definition.kind === 'timer') {
      const { handler } = definition;
      const tracked: TimerHandler = (timer, context) =>
        telemetry.trackActivity(async () => handler(timer, context));
      return { ...definition, handler: tracked };
    }
    const { handler } = definition;
    const tracked: ServiceBusQueueHandler = (message, context) =>
      telemetry.trackActivity(async () => handler(message, context));
    return { ...definition, handler: tracked };
  });
}

function definitionsOf(runtime: JobsRuntime): FunctionDefinition[] {
  const always: FunctionDefinition[] = [
    {
      kind: 'http',
      name: 'submitJob',
      methods: ['POST'],
      route: 'jobs',
      authLevel: 'function',
      handler: createSubmitJob(runtime),
    },
    {
      kind: 'http',
      name: 'listJobs',
      methods: ['GET'],
      route: 'jobs',
      authLevel: 'function',
      handler: createListJobs(runtime),
    },
    {
      kind: 'http',
      name: 'getJob',
      methods: ['GET'],
      route: 'jobs/{jobId}',
      authLevel: 'function',
      handler: createGetJob(runtime),
    },
    {
      kind: 'http',
      name: 'cancelJob',
      methods: ['POST'],
      route: 'jobs/{jobId}/cancel',
      authLevel: 'function',
      handler: createCancelJob(runtime),
    },
    {
      kind: 'http',
      name: 'listJobTypes',
      methods: ['GET'],
      route: 'jobtypes',
      authLevel: 'function',
      handler: createListJobTypes(runtime),
    },
    {
      kind: 'http',
      name: 'health',
      methods: ['GET'],
      route: 'health',
      authLevel: 'anonymous',
      handler: createHealth(runtime),
    },
    // Operators' tools: the master key in Azure. The sequence number takes any text, so its function answers 400
    // naming it (a `:long` constraint would make `DELETE deadletters/abc` the host's bare 404). The host tries
    // routes in its own order, not by how specific they are, but no rival route takes DELETE, and OPTIONS on
    // `deadletters/replay` answers the same whichever function has it (its Allow comes from the path).
    {
      kind: 'http',
      name: 'listDeadLetters',
      methods: ['GET'],
      route: 'deadletters',
      authLevel: 'admin',
      handler: createListDeadLetters(runtime),
    },
    {
      kind: 'http',
      name: 'replayDeadLetters',
      methods: ['POST'],
      route: 'deadletters/replay',
      authLevel: 'admin',
      handler: createReplayDeadLetters(runtime),
    },
    {
      kind: 'http',
      name: 'replayDeadLetter',
      methods: ['POST'],
      route: 'deadletters/{sequenceNumber}/replay',
      authLevel: 'admin',
      handler: createReplayDeadLetter(runtime),
    },
    {
      kind: 'http',
      name: 'discardDeadLetter',
      methods: ['DELETE'],
      route: 'deadletters/{sequenceNumber}',
      authLevel: 'admin',
      handler: createDiscardDeadLetter(runtime),
    },
    {
      kind: 'http',
      name: 'discardDeadLetters',
      methods: ['POST'],
      route: 'deadletters/discard',
      authLevel: 'admin',
      handler: createDiscardDeadLetters(runtime),
    },
    // The operator dashboard (docs/dashboard.md): the page at the job API's level, its script and style sheet
    // anonymous (a browser loads them without the key; they hold no data), and the counts it shows.
    {
      kind: 'http',
      name: 'getJobStats',
      methods: ['GET'],
      route: 'jobstats',
      authLevel: 'function',
      handler: createGetJobStats(runtime),
    },
    {
      kind: 'http',
      name: 'dashboard',
      methods: ['GET'],
      route: 'dashboard',
      authLevel: 'function',
      handler: createDashboard(runtime),
    },
    {
      kind: 'http',
      name: 'dashboardAsset',
      methods: ['GET'],
      route: 'dashboard/{asset}',
      authLevel: 'anonymous',
      handler: createDashboardAsset(runtime),
    },
    {
      kind: 'timer',
      name: 'reconcileJobs',
      schedule: reconcileJobsSchedule,
      handler: createReconcileJobs(runtime),
    },
    {
      kind: 'timer',
      name: 'purgeFinishedJobs',
      schedule: purgeFinishedJobsSchedule,
      handler: createPurgeFinishedJobs(runtime),
    },
  ];
  if (!runtime.config.useServiceBus) return always;
  const explicit = runtime.config.serviceBus.settlement === 'explicit';
  const processJob: ServiceBusQueueFunctionDefinition = {
    kind: 'serviceBusQueue',
    name: 'processJob',
    queueName: '%Jobs__ServiceBus__QueueName%',
    connection: 'ServiceBusConnection',
    autoCompleteMessages: !explicit,
    sdkBinding: explicit,
    handler: (explicit
      ? createProcessJobExplicitlySettled(runtime)
      : createProcessJobHostSettled(runtime)) as ServiceBusQueueHandler,
  };
  return [...always, processJob];
}
