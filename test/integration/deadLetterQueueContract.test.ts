import { ServiceBusClient } from '@azure/service-bus';
import type { DeadLetterQueue } from '../../src/jobs/ports/deadLetterQueue';
import { InMemoryJobQueue } from '../../src/queue/inMemoryJobQueue';
import { ServiceBusDeadLetterQueue } from '../../src/queue/serviceBusDeadLetterQueue';
import type { StartedEmulator } from '../../tools/servicebus-emulator';
import { startServiceBusEmulator } from '../../tools/servicebus-emulator';
import { quickRetries } from '../support/serviceBusApp';
import { waitFor } from '../support/waitFor';

interface Subject {
  readonly queue: DeadLetterQueue;
  /** Puts messages with these ids in the dead-letter sub-queue, in this order, with reason `Poisoned`. */
  deadLetter(messageIds: string[]): Promise<void>;
  close(): Promise<void>;
}

async function inMemorySubject(): Promise<Subject> {
  const queue = new InMemoryJobQueue({
    queueName: 'contract',
    lockDurationMs: 60_000,
    maxDeliveryCount: 3,
    maxConcurrency: 1,
  });
  queue.startProcessing((delivery) =>
    delivery.deadLetter('Poisoned', `refused ${delivery.message.messageId}`),
  );
  return {
    queue,
    async deadLetter(messageIds) {
      const before = queue.messageCount().deadLettered;
      await queue.send(
        messageIds.map((messageId) => ({ messageId, body: JSON.stringify({ messageId }) }) as never),
      );
      await waitFor(() =>
        queue.messageCount().deadLettered === before + messageIds.length ? true : undefined,
      );
    },
    close: () => queue.close(),
  };
}

let emulator: StartedEmulator;
let queueCount = 0;

async function serviceBusSubject(): Promise<Subject> {
  const name = `contract-${++queueCount}`;
  const client = new ServiceBusClient(emulator.connectionString, { retryOptions: quickRetries });
  return {
    queue: new ServiceBusDeadLetterQueue(client, name),
    async deadLetter(messageIds) {
      const sender = client.createSender(name);
      const receiver = client.createReceiver(name);
      for (const messageId of messageIds) {
        await sender.sendMessages({ messageId, body: { messageId } });
        const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2_000 });
        await receiver.deadLetterMessage(message!, {
          deadLetterReason: 'Poisoned',
          deadLetterErrorDescription: `refused ${messageId}`,
        });
      }
      await sender.close();
      await receiver.close();
    },
    close: () => client.close(),
  };
}

beforeAll(async () => {
  emulator = await startServiceBusEmulator({
    port: 0,
    queues: Object.fromEntries(Array.from({ length: 10 }, (_, index) => [`contract-${index + 1}`, {}])),
  });
});

afterAll(() => emulator?.close());

describe.each([
  ['in-memory', inMemorySubject],
  ['Service Bus emulator', serviceBusSubject],
])('dead-letter queue port (%s)', (_transport, start) => {
  let subject: Subject;

  beforeEach(async () => {
    subject = await start();
  });

  afterEach(() => subject.close());

  const ids = async (max = 100) =>
    (await subject.queue.peekDeadLetters(max)).entries.map((entry) => entry.messageId);

  it('peeks every message, oldest first, with its reason and description, and reports truncation', async () => {
    await subject.deadLetter(['a', 'b', 'c']);

    const all = await subject.queue.peekDeadLetters(10);
    const two = await subject.queue.peekDeadLetters(2);
    const three = await subject.queue.peekDeadLetters(3);

    expect(all.entries.map((entry) => [entry.messageId, entry.reason, entry.description])).toEqual([
      ['a', 'Poisoned', 'refused a'],
      ['b', 'Poisoned', 'refused b'],
      ['c', 'Poisoned', 'refused c'],
    ]);
    expect(all.truncated).toBe(false);
    expect(JSON.parse(Buffer.from(all.entries[0]!.body as string).toString())).toEqual({ messageId: 'a' });
    expect(two).toMatchObject({ truncated: true });
    expect(two.entries.map((entry) => entry.messageId)).toEqual(['a', 'b']);
    expect(three.truncated).toBe(false);
  });

  it('peeks one message by sequence number, and nothing for a number it does not hold', async () => {
    await subject.deadLetter(['a', 'b']);
    const [, second] = (await subject.queue.peekDeadLetters(10)).entries;

    const found = await subject.queue.peekDeadLetter(second!.sequenceNumber);
    const missing = await subject.queue.peekDeadLetter('987654321');

    expect(found).toEqual(second);
    expect(missing).toBeUndefined();
  });

  it('locks a message behind others, and removing it leaves the others where they were, available to lock', async () => {
    await subject.deadLetter(['a', 'b', 'c']);
    const [first, second, third] = (await subject.queue.peekDeadLetters(10)).entries;

    const lockedSecond = await subject.queue.lockDeadLetter(second!.sequenceNumber);
    const lockedThird = await subject.queue.lockDeadLetter(third!.sequenceNumber);
    const secondAgain = await subject.queue.lockDeadLetter(second!.sequenceNumber);
    await lockedSecond!.remove();
    await lockedThird!.release();
    const lockedFirst = await subject.queue.lockDeadLetter(first!.sequenceNumber);
    await lockedFirst!.release();

    expect(lockedSecond?.entry.messageId).toBe('b');
    expect(lockedThird?.entry.messageId).toBe('c');
    expect(secondAgain).toBeUndefined();
    expect(lockedFirst?.entry.messageId).toBe('a');
    expect(await ids()).toEqual(['a', 'c']);
  });

  it('locks nothing for a sequence number it does not hold', async () => {
    await subject.deadLetter(['a']);

    const locked = await subject.queue.lockDeadLetter('987654321');

    expect(locked).toBeUndefined();
    expect(await ids()).toEqual(['a']);
  });
});
