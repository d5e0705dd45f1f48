import { ServiceBusClient } from '@azure/service-bus';
import type { ServiceBusReceiver, ServiceBusSender } from '@azure/service-bus';
import { startServiceBusEmulator } from '../tools/servicebus-emulator';

/**
 * End-to-end throughput of the emulator through the real SDK: batched send → peek-lock receive → complete,
 * with 1 and 8 concurrent receivers. Usage: npm run bench:emulator [-- <messages per run>]
 */
const MESSAGES = Number(process.argv[2] ?? 10_000);
const BATCH_SIZE = 100;
const CONCURRENT_CALLS_PER_RECEIVER = 32;

async function main(): Promise<void> {
  const emulator = await startServiceBusEmulator({
    port: 0,
    queues: { 'bench-1': { LockDuration: 'PT1M' }, 'bench-8': { LockDuration: 'PT1M' } },
  });
  const client = new ServiceBusClient(emulator.connectionString);
  try {
    console.log(
      `Service Bus emulator benchmark: ${MESSAGES} messages of ~100 bytes per run, batches of ${BATCH_SIZE}`,
    );
    for (const receivers of [1, 8]) {
      const rate = await run(client, `bench-${receivers}`, receivers);
      console.log(
        `${receivers} receiver(s): ${Math.round(rate)} msg/s (send → peek-lock receive → complete)`,
      );
    }
  } finally {
    await client.close();
    await emulator.close();
  }
}

async function run(client: ServiceBusClient, queue: string, receiverCount: number): Promise<number> {
  const sender = client.createSender(queue);
  const receivers = Array.from({ length: receiverCount }, () => client.createReceiver(queue));
  // Open every link before the clock starts: the figure is about messages, not attach round trips.
  await sender.sendMessages({ body: 'warm-up' });
  const [warm] = await receivers[0]!.receiveMessages(1, { maxWaitTimeInMs: 5000 });
  if (warm) await receivers[0]!.completeMessage(warm);

  let completed = 0;
  const seen = new Set<number>();
  const started = process.hrtime.bigint();
  const done = new Promise<void>((resolve, reject) => {
    for (const receiver of receivers) {
      receiver.subscribe(
        {
          processMessage: async (message) => {
            await receiver.completeMessage(message);
            seen.add(message.body as number);
            if (++completed === MESSAGES) resolve();
          },
          processError: async ({ error }) => reject(error),
        },
        { autoCompleteMessages: false, maxConcurrentCalls: CONCURRENT_CALLS_PER_RECEIVER },
      );
    }
  });
  await sendAll(sender);
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (seen.size !== MESSAGES) throw new Error(`received ${seen.size} distinct messages of ${MESSAGES}`);
  await Promise.all(receivers.map((receiver: ServiceBusReceiver) => receiver.close()));
  await sender.close();
  return MESSAGES / seconds;
}

async function sendAll(sender: ServiceBusSender): Promise<void> {
  for (let start = 0; start < MESSAGES; start += BATCH_SIZE) {
    const batch = await sender.createMessageBatch();
    for (let i = start; i < Math.min(start + BATCH_SIZE, MESSAGES); i++) {
      if (!batch.tryAddMessage({ body: i, applicationProperties: { JobType: 'bench', Attempt: 1 } })) {
        throw new Error('a benchmark batch overflowed');
      }
    }
    await sender.sendMessages(batch);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
