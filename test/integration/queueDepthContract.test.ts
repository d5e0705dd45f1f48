import { ServiceBusClient } from '@azure/service-bus';
import { InfrastructureError } from '../../src/jobs/errors';
import { firstMessageOf } from '../../src/jobs/model/outgoingJobMessage';
import type { JobQueue } from '../../src/jobs/ports/jobQueue';
import type { QueueDepthReader } from '../../src/jobs/ports/queueDepth';
import { InMemoryJobQueue } from '../../src/queue/inMemoryJobQueue';
import { createServiceBusAdministrationClient } from '../../src/queue/serviceBusClientFactory';
import { ServiceBusJobQueue } from '../../src/queue/serviceBusJobQueue';
import { ServiceBusQueueDepth } from '../../src/queue/serviceBusQueueDepth';
import type { StartedEmulator } from '../../tools/servicebus-emulator';
import { startServiceBusEmulator } from '../../tools/servicebus-emulator';
import { jobMessage } from '../support/jobFixtures';
import { quickRetries } from '../support/serviceBusApp';
import { waitFor } from '../support/waitFor';

interface Subject {
  readonly depth: QueueDepthReader;
  readonly queue: JobQueue;
  /** Puts one message in the dead-letter sub-queue, with nothing else on the queue meanwhile. */
  deadLetterOne(): Promise<void>;
  close(): Promise<void>;
}

async function inMemorySubject(): Promise<Subject> {
  const queue = new InMemoryJobQueue({
    queueName: 'depth',
    lockDurationMs: 60_000,
    maxDeliveryCount: 3,
    maxConcurrency: 1,
  });
  return {
    depth: queue,
    queue,
    async deadLetterOne() {
      queue.startProcessing((delivery) => delivery.deadLetter('Poisoned', 'refused'));
      await queue.send([firstMessageOf(jobMessage())]);
      await waitFor(() => (queue.messageCount().deadLettered === 1 ? true : undefined));
      await queue.stopProcessing(1_000);
    },
    close: () => queue.close(),
  };
}

let emulator: StartedEmulator;

const connection = (connectionString: string) => ({
  connectionString,
  fullyQualifiedNamespace: undefined,
  identity: { managedIdentity: false, clientId: undefined },
  queueName: 'depth',
  settlement: 'host' as const,
});

async function serviceBusSubject(): Promise<Subject> {
  const client = new ServiceBusClient(emulator.connectionString, { retryOptions: quickRetries });
  return {
    depth: new ServiceBusQueueDepth(
      createServiceBusAdministrationClient(connection(emulator.connectionString)),
      'depth',
    ),
    queue: new ServiceBusJobQueue(client, 'depth'),
    async deadLetterOne() {
      const sender = client.createSender('depth');
      const receiver = client.createReceiver('depth');
      await sender.sendMessages({ body: 'poison' });
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2_000 });
      await receiver.deadLetterMessage(message!, {
        deadLetterReason: 'Poisoned',
        deadLetterErrorDescription: '',
      });
      await sender.close();
      await receiver.close();
    },
    close: () => client.close(),
  };
}

beforeAll(async () => {
  emulator = await startServiceBusEmulator({ port: 0, queues: { depth: {} } });
});

afterAll(() => emulator?.close());

describe.each([
  ['in-memory', inMemorySubject],
  ['Service Bus emulator, through the administration API', serviceBusSubject],
])('queue depth port (%s)', (_transport, start) => {
  let subject: Subject;
  beforeEach(async () => {
    subject = await start();
  });
  afterEach(() => subject.close());

  it('counts active, scheduled and dead-lettered messages as Service Bus does', async () => {
    await subject.deadLetterOne();
    await subject.queue.send([firstMessageOf(jobMessage()), firstMessageOf(jobMessage())]);
    await subject.queue.schedule(firstMessageOf(jobMessage()), new Date(Date.now() + 3_600_000));

    expect(await subject.depth.depth()).toEqual({ active: 2, scheduled: 1, deadLettered: 1 });
  });
});

describe('queue depth on Service Bus', () => {
  it('when the broker does not answer, then reading it fails as QueueUnavailable within its budget', async () => {
    const nothing =
      'Endpoint=sb://localhost:9;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;';
    const depth = new ServiceBusQueueDepth(
      createServiceBusAdministrationClient(connection(nothing)),
      'depth',
      2_000,
    );

    const error = await depth.depth().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InfrastructureError);
    expect(error).toMatchObject({ code: 'QueueUnavailable' });
    expect((error as Error).message).toMatch(/Reading the depth of queue 'depth' failed/);
  });
});
