import type { ServiceBusMessage, ServiceBusReceivedMessage } from '@azure/service-bus';
import { ServiceBusClient } from '@azure/service-bus';
import type { RuntimeOverrides } from '../../src/runtime';
import type { LocalHost } from '../../tools/local-host/localHost';
import { startLocalHost } from '../../tools/local-host/localHost';
import type { QueueProperties, StartedEmulator } from '../../tools/servicebus-emulator';
import { startServiceBusEmulator } from '../../tools/servicebus-emulator';
import type { StartedAzurite } from '../../tools/azurite/startAzurite';
import { startAzurite } from '../../tools/azurite/startAzurite';
import { embeddedTestSettings } from './embeddedRuntime';
import { waitFor } from './waitFor';

export const queueName = 'sdap-jobs';

/** Fail fast against a local emulator instead of the SDK's 3 × 30 s default. */
export const quickRetries = { maxRetries: 1, retryDelayInMs: 100, timeoutInMs: 5_000 };

/** The production configuration, locally: Service Bus on the emulator, job records and documents on Azurite. */
export function serviceBusSettings(
  emulator: StartedEmulator,
  azurite: StartedAzurite,
  settlement: string,
  extra: Record<string, string> = {},
) {
  return {
    ...embeddedTestSettings,
    Jobs__UseServiceBus: 'true',
    ServiceBusConnection: emulator.connectionString,
    Jobs__ServiceBus__Settlement: settlement,
    JobsStorage: azurite.connectionString,
    ...extra,
  };
}

/** An emulator with the app's queue, a client for sending and peeking directly, and a way to start local hosts. */
export async function startServiceBusWorld(queue: Partial<QueueProperties> = {}) {
  const emulator = await startServiceBusEmulator({
    port: 0,
    queues: {
      [queueName]: { MaxDeliveryCount: 4, LockDuration: 'PT5S', RequiresDuplicateDetection: true, ...queue },
    },
  });
  const azurite = await startAzurite();
  const client = new ServiceBusClient(emulator.connectionString, { retryOptions: quickRetries });
  const hosts: LocalHost[] = [];
  return {
    emulator,
    azurite,
    client,
    async startHost(
      settlement: string,
      extra: Record<string, string> = {},
      overrides: RuntimeOverrides = {},
    ): Promise<LocalHost> {
      const host = await startLocalHost({
        env: serviceBusSettings(emulator, azurite, settlement, extra),
        port: 0,
        overrides,
      });
      hosts.push(host);
      return host;
    },
    /** Sends straight to the queue, as another producer would. */
    async send(message: ServiceBusMessage): Promise<void> {
      const sender = client.createSender(queueName);
      try {
        await sender.sendMessages(message);
      } finally {
        await sender.close();
      }
    },
    /** Dead-lettered messages, read without removing them. */
    async peekDeadLetters(): Promise<ServiceBusReceivedMessage[]> {
      const receiver = client.createReceiver(queueName, { subQueueType: 'deadLetter' });
      try {
        return await receiver.peekMessages(100);
      } finally {
        await receiver.close();
      }
    },
    async waitForDeadLetter(match: (message: ServiceBusReceivedMessage) => boolean, timeoutMs = 20_000) {
      return waitFor(async () => (await this.peekDeadLetters()).find(match), {
        timeoutMs,
        intervalMs: 50,
        description: 'a dead-lettered message',
      });
    },
    async close(): Promise<void> {
      await Promise.all(hosts.map((host) => host.close()));
      await client.close();
      await emulator.close();
      await azurite.close();
    },
  };
}

export type ServiceBusWorld = Awaited<ReturnType<typeof startServiceBusWorld>>;
