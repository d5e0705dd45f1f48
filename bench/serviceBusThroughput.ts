import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ServiceBusClient } from '@azure/service-bus';
import { newJobMessage } from '../src/jobs/jobMessage';
import { firstMessageOf } from '../src/queue/outgoingJobMessage';
import { toServiceBusMessage } from '../src/queue/serviceBusJobQueue';
import { readServiceBusTriggerSettings } from '../tools/local-host/hostJsonSettings';
import { startLocalHost } from '../tools/local-host/localHost';
import { completionCounter } from './completionCounter';

const queueName = 'sdap-jobs';

export interface ServiceBusThroughput {
  rawPerSecond: number[];
  appPerSecond: number[];
}

/**
 * The app's Service Bus path (submission batches → emulator → trigger runner in host settlement → no-op handler →
 * complete, records kept) beside a raw `@azure/service-bus` loop doing send → receive → complete with the same
 * messages, at the same concurrency (host.json `maxConcurrentCalls`), against one emulator in its own process
 * (as a broker is). Rounds alternate so machine noise hits both alike.
 */
export async function measureServiceBusThroughput(
  jobs: number,
  rounds: number,
): Promise<ServiceBusThroughput> {
  const emulator = await startEmulatorProcess();
  const { maxConcurrentCalls } = readServiceBusTriggerSettings();
  const result: ServiceBusThroughput = { rawPerSecond: [], appPerSecond: [] };
  try {
    for (let round = 0; round < rounds; round += 1) {
      result.rawPerSecond.push(await rawLoop(emulator.connectionString, jobs, maxConcurrentCalls));
      result.appPerSecond.push(await appPath(emulator.connectionString, jobs));
    }
    return result;
  } finally {
    emulator.stop();
  }
}

async function startEmulatorProcess(): Promise<{ connectionString: string; stop: () => void }> {
  const emulatorModule = resolve(__dirname, '..', 'tools', 'servicebus-emulator');
  const script =
    `require(${JSON.stringify(emulatorModule)}).startServiceBusEmulator({ port: 0, queues: { ${JSON.stringify(queueName)}: ` +
    `{ MaxDeliveryCount: 10, LockDuration: 'PT1M' } } }).then((e) => console.log(e.connectionString));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const firstLine = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
  if (firstLine.done) throw new Error('the emulator process exited before it was ready');
  return { connectionString: String(firstLine.value), stop: () => child.kill() };
}

async function rawLoop(connectionString: string, count: number, maxConcurrentCalls: number): Promise<number> {
  const client = new ServiceBusClient(connectionString);
  const sender = client.createSender(queueName);
  const receiver = client.createReceiver(queueName, { receiveMode: 'peekLock' });
  let completed = 0;
  let done: () => void = () => undefined;
  const allDone = new Promise<void>((resolveDone) => (done = resolveDone));
  const started = process.hrtime.bigint();
  const subscription = receiver.subscribe(
    {
      processMessage: async (message) => {
        await receiver.completeMessage(message);
        if (++completed === count) done();
      },
      processError: async () => undefined,
    },
    { autoCompleteMessages: false, maxConcurrentCalls },
  );
  for (let sent = 0; sent < count; sent += 100) {
    const batch = await sender.createMessageBatch();
    for (let index = 0; index < Math.min(100, count - sent); index += 1) {
      batch.tryAddMessage(
        toServiceBusMessage(firstMessageOf(newJobMessage({ jobType: 'diagnostics.simulate', payload: {} }))),
      );
    }
    await sender.sendMessages(batch);
  }
  await allDone;
  const perSecond = count / (Number(process.hrtime.bigint() - started) / 1e9);
  await subscription.close();
  await client.close();
  return perSecond;
}

async function appPath(connectionString: string, count: number): Promise<number> {
  const completions = completionCounter();
  const host = await startLocalHost({
    // Records in memory: this compares the transport path with a raw loop; storage cost is measured separately.
    env: {
      Jobs__UseServiceBus: 'true',
      ServiceBusConnection: connectionString,
      Jobs__EnableDiagnostics: 'true',
      Jobs__Store: 'memory',
    },
    port: 0,
    overrides: { logger: completions.logger },
  });
  try {
    const batch = Array.from({ length: 100 }, () => ({ jobType: 'diagnostics.simulate', payload: {} }));
    const started = process.hrtime.bigint();
    for (let sent = 0; sent < count; sent += batch.length) {
      await host.runtime.submission.submitBatch(batch.slice(0, Math.min(100, count - sent)));
    }
    await completions.whenCompleted(count);
    return count / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    await host.close();
  }
}
