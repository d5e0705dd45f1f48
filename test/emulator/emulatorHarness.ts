import { ServiceBusClient } from '@azure/service-bus';
import type {
  ServiceBusClientOptions,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
  ServiceBusReceiverOptions,
  ServiceBusSender,
  ServiceBusSessionReceiver,
  ServiceBusSessionReceiverOptions,
} from '@azure/service-bus';
import { startServiceBusEmulator } from '../../tools/servicebus-emulator';
import type { ServiceBusEmulatorOptions, StartedEmulator } from '../../tools/servicebus-emulator';

/** Short SDK retries, so that a failure fails in seconds instead of the default 3 × 30 s. */
const fastRetries: ServiceBusClientOptions = {
  retryOptions: { maxRetries: 1, retryDelayInMs: 100, timeoutInMs: 5000 },
};

export interface EmulatorSession {
  readonly emulator: StartedEmulator;
  readonly client: ServiceBusClient;
  /** A sender, closed after the test. */
  sender(queue: string): ServiceBusSender;
  /** A receiver, closed after the test. */
  receiver(queue: string, options?: ServiceBusReceiverOptions): ServiceBusReceiver;
  /** A receiver on the queue's dead-letter sub-queue, closed after the test. */
  deadLetterReceiver(queue: string, options?: ServiceBusReceiverOptions): ServiceBusReceiver;
  /** A session receiver for `sessionId`, or for the next available session when it is undefined; closed after the test. */
  acceptSession(
    queue: string,
    sessionId: string | undefined,
    options?: ServiceBusSessionReceiverOptions,
  ): Promise<ServiceBusSessionReceiver>;
}

/**
 * One emulator and one client for the enclosing `describe` (started before its tests, closed after them);
 * each test uses its own queue, declared in `options.queues`, and the links it opens here are closed after it.
 */
export function useEmulator(options: ServiceBusEmulatorOptions): EmulatorSession {
  let started: { emulator: StartedEmulator; client: ServiceBusClient } | undefined;
  let links: { close(): Promise<void> }[] = [];
  const running = () => {
    if (!started) throw new Error('the emulator is used outside a test');
    return started;
  };
  const opened = <T extends { close(): Promise<void> }>(link: T): T => {
    links.push(link);
    return link;
  };

  beforeAll(async () => {
    const emulator = await startServiceBusEmulator(options);
    started = { emulator, client: new ServiceBusClient(emulator.connectionString, fastRetries) };
  });

  afterEach(async () => {
    const closing = links;
    links = [];
    for (const link of closing) await link.close();
  });

  afterAll(async () => {
    await started?.client.close();
    await started?.emulator.close();
  });

  return {
    get emulator() {
      return running().emulator;
    },
    get client() {
      return running().client;
    },
    sender: (queue) => opened(running().client.createSender(queue)),
    receiver: (queue, receiverOptions) => opened(running().client.createReceiver(queue, receiverOptions)),
    deadLetterReceiver: (queue, receiverOptions) =>
      opened(running().client.createReceiver(queue, { ...receiverOptions, subQueueType: 'deadLetter' })),
    acceptSession: async (queue, sessionId, sessionOptions) =>
      opened(
        sessionId === undefined
          ? await running().client.acceptNextSession(queue, sessionOptions)
          : await running().client.acceptSession(queue, sessionId, sessionOptions),
      ),
  };
}

/** Receives until `count` messages have arrived or a receive comes back empty. */
export async function receiveAll(
  receiver: Pick<ServiceBusReceiver, 'receiveMessages'>,
  count: number,
): Promise<ServiceBusReceivedMessage[]> {
  const received: ServiceBusReceivedMessage[] = [];
  while (received.length < count) {
    const batch = await receiver.receiveMessages(count - received.length, { maxWaitTimeInMs: 2000 });
    if (batch.length === 0) break;
    received.push(...batch);
  }
  return received;
}
