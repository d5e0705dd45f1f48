import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { ServiceBusSender } from '@azure/service-bus';
import { ServiceBusClient } from '@azure/service-bus';
import type { ServiceBusQueueFunctionDefinition } from '../src/functions/functionTable';
import { newJobMessage } from '../src/jobs/model/jobMessage';
import type { JobStore } from '../src/jobs/ports/jobStore';
import { silentLogger } from '../src/jobs/support/logger';
import { firstMessageOf } from '../src/jobs/model/outgoingJobMessage';
import { toServiceBusMessage } from '../src/queue/serviceBusJobMessage';
import { childSpanOf, formatTraceParent } from '../src/jobs/observability/traceContext';
import type { ServiceBusTriggerSettings } from '../tools/local-host/hostJsonSettings';
import { readServiceBusTriggerSettings } from '../tools/local-host/hostJsonSettings';
import { startLocalHost } from '../tools/local-host/localHost';
import { ServiceBusTriggerRunner } from '../tools/local-host/serviceBusTriggerRunner';
import { completionCounter } from './completionCounter';
import { recordlessJobStore } from './recordlessJobStore';

const queueName = 'sdap-jobs';
const batchSize = 100;

/** One lane of one round: messages per second, and this process's CPU time per message (the emulator's aside). */
export interface LaneFigures {
  perSecond: number;
  cpuMicrosPerMessage: number;
}

export interface ServiceBusThroughput {
  /** `@azure/service-bus` alone: send → receive → complete. */
  raw: LaneFigures[];
  /** The same messages through the local host's trigger runner to a function that does nothing: the host's share. */
  runner: LaneFigures[];
  /** The app: submission → trigger runner → processJob → no-op handler, records kept. */
  app: LaneFigures[];
  /** The app again, its store keeping nothing (`recordlessJobStore`): the app's path less the keeping of records. */
  appKeepingNoRecords: LaneFigures[];
}

/**
 * The app's Service Bus path beside a raw `@azure/service-bus` loop doing send → receive → complete with the same
 * wire messages (body and application properties as submission writes them), at the same concurrency (host.json
 * `maxConcurrentCalls`), against one emulator in its own process (as a broker is). Between them, the trigger
 * runner alone, so the figures say how much of the difference is the host stand-in and how much the app, and the app
 * with a store that keeps nothing, so they say how much of the app's share is keeping records. A
 * warm-up round is run and dropped; then rounds alternate so machine noise hits every lane alike. Each lane's clock
 * stops when its last message has been handled.
 */
export async function measureServiceBusThroughput(
  messages: number,
  rounds: number,
): Promise<ServiceBusThroughput> {
  const emulator = await startEmulatorProcess();
  const settings = readServiceBusTriggerSettings();
  const lanes = {
    raw: (count: number) => rawLoop(emulator.connectionString, count, settings.maxConcurrentCalls),
    runner: (count: number) => runnerLoop(emulator.connectionString, count, settings),
    app: (count: number) => appPath(emulator.connectionString, count),
    appKeepingNoRecords: (count: number) =>
      appPath(emulator.connectionString, count, { store: recordlessJobStore() }),
  };
  const result: ServiceBusThroughput = { raw: [], runner: [], app: [], appKeepingNoRecords: [] };
  try {
    for (const lane of Object.values(lanes)) await lane(messages);
    for (let round = 0; round < rounds; round += 1) {
      for (const [name, lane] of Object.entries(lanes)) {
        result[name as keyof ServiceBusThroughput].push(await lane(messages));
      }
    }
    return result;
  } finally {
    emulator.stop();
  }
}

export async function startEmulatorProcess(): Promise<{ connectionString: string; stop: () => void }> {
  const emulatorModule = resolve(__dirname, '..', 'tools', 'servicebus-emulator');
  const script =
    `require(${JSON.stringify(emulatorModule)}).startServiceBusEmulator({ port: 0, queues: { ${JSON.stringify(queueName)}: ` +
    `{ MaxDeliveryCount: 10, LockDuration: 'PT1M' } } }).then((e) => console.log(e.connectionString));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const firstLine = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
  if (firstLine.done) throw new Error('the emulator process exited before it was ready');
  return { connectionString: String(firstLine.value), stop: () => child.kill() };
}

/** Times `run` (which resolves once all `count` messages are settled) in wall-clock and in this process's CPU. */
async function timed(count: number, run: () => Promise<void>): Promise<LaneFigures> {
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  return { perSecond: count / seconds, cpuMicrosPerMessage: (cpu.user + cpu.system) / count };
}

/**
 * `count` jobs in batches of 100, `producers` batches at a time: each producer sends its next batch once its last one
 * is answered, as that many clients submitting one after another would.
 */
async function inBatches(
  count: number,
  producers: number,
  send: (size: number) => Promise<unknown>,
): Promise<void> {
  let taken = 0;
  const producer = async (): Promise<void> => {
    while (taken < count) {
      const size = Math.min(batchSize, count - taken);
      taken += size;
      await send(size);
    }
  };
  await Promise.all(Array.from({ length: producers }, producer));
}

/** What submission sends: one trace per batch (one submission), each message with its record's ETag. */
async function sendAsSubmissionDoes(sender: ServiceBusSender, count: number, producers = 1): Promise<void> {
  let etag = 0;
  await inBatches(count, producers, async (size) => {
    const traceParent = formatTraceParent(childSpanOf(undefined));
    const batch = await sender.createMessageBatch();
    for (let index = 0; index < size; index += 1) {
      const job = newJobMessage({ jobType: 'diagnostics.simulate', payload: {} });
      etag += 1;
      batch.tryAddMessage(
        toServiceBusMessage({ ...firstMessageOf(job, traceParent), recordEtag: String(etag) }),
      );
    }
    await sender.sendMessages(batch);
  });
}

/** A promise settled after `count` calls of the returned `settled`. */
function countdown(count: number): { settled: () => void; allSettled: Promise<void> } {
  let left = count;
  let done: () => void = () => undefined;
  const allSettled = new Promise<void>((resolveAll) => (done = resolveAll));
  return { settled: () => (--left === 0 ? done() : undefined), allSettled };
}

export async function rawLoop(
  connectionString: string,
  count: number,
  maxConcurrentCalls: number,
  producers = 1,
): Promise<LaneFigures> {
  const client = new ServiceBusClient(connectionString);
  const sender = client.createSender(queueName);
  const receiver = client.createReceiver(queueName, { receiveMode: 'peekLock' });
  const { settled, allSettled } = countdown(count);
  let subscription: { close(): Promise<void> } | undefined;
  try {
    return await timed(count, async () => {
      subscription = receiver.subscribe(
        {
          processMessage: async (message) => {
            await receiver.completeMessage(message);
            settled();
          },
          processError: async () => undefined,
        },
        { autoCompleteMessages: false, maxConcurrentCalls },
      );
      await sendAsSubmissionDoes(sender, count, producers);
      await allSettled;
    });
  } finally {
    await subscription?.close();
    await client.close();
  }
}

async function runnerLoop(
  connectionString: string,
  count: number,
  settings: ServiceBusTriggerSettings,
): Promise<LaneFigures> {
  const client = new ServiceBusClient(connectionString);
  const sender = client.createSender(queueName);
  const { settled, allSettled } = countdown(count);
  const noOpFunction: ServiceBusQueueFunctionDefinition = {
    kind: 'serviceBusQueue',
    name: 'noOp',
    queueName,
    connection: 'ServiceBusConnection',
    autoCompleteMessages: true,
    sdkBinding: false,
    handler: async () => settled(),
  };
  const runner = new ServiceBusTriggerRunner(client, queueName, noOpFunction, settings, silentLogger);
  try {
    return await timed(count, async () => {
      runner.start();
      await sendAsSubmissionDoes(sender, count);
      await allSettled;
    });
  } finally {
    await runner.stopProcessing(60_000);
    await runner.close();
    await client.close();
  }
}

/**
 * The app's path for `count` jobs. By default the records stay in memory: that compares the transport path with a
 * raw loop, and storage is measured on its own; `store` may stand in for a remote one, `hostJsonPath` set the trigger,
 * `handlerMs` make each handler wait that long, as one calling another service does, and `producers` submit that many
 * batches at a time.
 */
export async function appPath(
  connectionString: string,
  count: number,
  {
    store,
    hostJsonPath,
    handlerMs = 0,
    producers = 1,
  }: { store?: JobStore; hostJsonPath?: string; handlerMs?: number; producers?: number } = {},
): Promise<LaneFigures> {
  const completions = completionCounter();
  const host = await startLocalHost({
    env: {
      Jobs__UseServiceBus: 'true',
      ServiceBusConnection: connectionString,
      Jobs__EnableDiagnostics: 'true',
      Jobs__Store: 'memory',
    },
    port: 0,
    overrides: { logger: completions.logger, store },
    hostJsonPath,
  });
  try {
    const payload = handlerMs > 0 ? { durationMs: handlerMs } : {};
    const batch = Array.from({ length: batchSize }, () => ({ jobType: 'diagnostics.simulate', payload }));
    return await timed(count, async () => {
      await inBatches(count, producers, (size) => host.runtime.submission.submitBatch(batch.slice(0, size)));
      await completions.whenCompleted(count);
    });
  } finally {
    await host.close();
  }
}
