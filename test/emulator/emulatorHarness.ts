import { ServiceBusClient } from '@azure/service-bus';
import type { ServiceBusClientOptions } from '@azure/service-bus';
import { startServiceBusEmulator } from '../../tools/servicebus-emulator';
import type { QueueProperties, StartedEmulator } from '../../tools/servicebus-emulator';

/** Short SDK retries, so that a failure fails in seconds instead of the default 3 × 30 s. */
export const fastRetries: ServiceBusClientOptions = {
  retryOptions: { maxRetries: 1, retryDelayInMs: 100, timeoutInMs: 5000 },
};

export interface Harness {
  emulator: StartedEmulator;
  client: ServiceBusClient;
  close(): Promise<void>;
}

/** One emulator and one client for a test file; each test uses its own queue, declared here. */
export async function startHarness(queues: Record<string, Partial<QueueProperties>>): Promise<Harness> {
  const emulator = await startServiceBusEmulator({ port: 0, queues });
  const client = new ServiceBusClient(emulator.connectionString, fastRetries);
  return {
    emulator,
    client,
    async close() {
      await client.close();
      await emulator.close();
    },
  };
}

/** Polls until `condition` holds; for state the SDK cannot be awaited on. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
