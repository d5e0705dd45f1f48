import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { loadConfig } from '../../src/config';
import type {
  HttpFunctionDefinition,
  ServiceBusQueueFunctionDefinition,
  TimerFunctionDefinition,
} from '../../src/functions/functionTable';
import { createFunctionTable } from '../../src/functions/functionTable';
import { createServiceBusClient } from '../../src/queue/serviceBusClientFactory';
import { ServiceBusJobQueue } from '../../src/queue/serviceBusJobQueue';
import type { JobsRuntime, RuntimeOverrides, ShutdownReport } from '../../src/runtime';
import { createJobsRuntime } from '../../src/runtime';
import { isFunctionDisabled } from './disabledFunctions';
import { readServiceBusTriggerSettings } from './hostJsonSettings';
import { createLocalHttpServer } from './localHttpServer';
import { listeningOn, readLocalPorts } from './localPorts';
import { ServiceBusTriggerRunner } from './serviceBusTriggerRunner';
import { TimerRunner } from './timerRunner';

export interface LocalHost {
  readonly url: string;
  readonly port: number;
  readonly runtime: JobsRuntime;
  /** Graceful: stops taking requests and work, lets in-flight jobs finish up to the shutdown deadline. */
  close(): Promise<ShutdownReport>;
}

export interface LocalHostOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Overrides `PORT`; 0 picks a free port. */
  port?: number;
  host?: string;
  overrides?: RuntimeOverrides;
  /** Where the Service Bus trigger's settings come from, as in the Functions host. */
  hostJsonPath?: string;
}

/**
 * Runs the app without Core Tools: the same function table the Functions host registers, behind a local HTTP
 * server, with the embedded queue processed in-process or, on Service Bus, a trigger runner standing in for the
 * host's Service Bus trigger.
 */
export async function startLocalHost({
  env,
  port,
  host = '127.0.0.1',
  overrides,
  hostJsonPath,
}: LocalHostOptions): Promise<LocalHost> {
  const config = loadConfig(env);
  // One connection for the app's sender and the trigger's receiver, as the SDK recommends for one process: the
  // runtime's queue owns the client and closes it.
  const client = config.useServiceBus ? createServiceBusClient(config.serviceBus) : undefined;
  const sharedQueue =
    client && !overrides?.queue ? new ServiceBusJobQueue(client, config.serviceBus.queueName) : undefined;
  const runtime = createJobsRuntime(config, { ...overrides, queue: overrides?.queue ?? sharedQueue });
  const table = createFunctionTable(runtime).filter(
    (definition) => !isFunctionDisabled(env, definition.name),
  );
  const http = table.filter((definition): definition is HttpFunctionDefinition => definition.kind === 'http');
  const processJob = table.find(
    (definition): definition is ServiceBusQueueFunctionDefinition => definition.kind === 'serviceBusQueue',
  );
  const timers = new TimerRunner(
    table.filter((definition): definition is TimerFunctionDefinition => definition.kind === 'timer'),
    config,
    runtime.logger,
  );
  const server = createLocalHttpServer(http, runtime.logger, runtime.telemetry);
  const listenPort = port ?? config.port;
  await listeningOn(
    { PORT: listenPort },
    async () => {
      server.listen(listenPort, host);
      await once(server, 'listening');
    },
    Object.values(readLocalPorts(env)),
  ).catch(async (error: unknown) => {
    await runtime.stop();
    if (!sharedQueue) await client?.close();
    throw error;
  });
  runtime.start();
  const runner =
    processJob &&
    client &&
    new ServiceBusTriggerRunner(
      client,
      config.serviceBus.queueName,
      processJob,
      readServiceBusTriggerSettings(hostJsonPath),
      runtime.logger,
    );
  runner?.start();
  timers.start();
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host}:${actualPort}`;
  runtime.logger.info('Local host listening', {
    url: `${url}/api`,
    functions: http.map((definition) => definition.name),
  });

  let closing: Promise<ShutdownReport> | undefined;
  return {
    url,
    port: actualPort,
    runtime,
    close: () =>
      (closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await timers.close();
        const report = await runtime.stop(runner ? [runner] : []);
        await runner?.close();
        // Closed with the runtime's queue when shared; otherwise the runner's alone.
        if (!sharedQueue) await client?.close();
        server.closeAllConnections();
        await serverClosed;
        return report;
      })()),
  };
}
