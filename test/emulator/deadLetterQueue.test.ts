import { receiveAll, useEmulator } from './emulatorHarness';

// What the app's dead-letter operations rely on: peeking the sub-queue page by page, holding several of its messages
// under peek-lock, releasing the ones not wanted and removing the one wanted.
describe('Service Bus emulator: the dead-letter sub-queue', () => {
  const bus = useEmulator({
    queues: {
      'dlq-peek': { MaxDeliveryCount: 1 },
      'dlq-lock': { MaxDeliveryCount: 1 },
      'dlq-again': { MaxDeliveryCount: 1, LockDuration: 'PT1S' },
    },
  });

  async function deadLetter(queue: string, bodies: string[]): Promise<void> {
    const sender = bus.sender(queue);
    const receiver = bus.receiver(queue);
    await sender.sendMessages(bodies.map((body) => ({ body, messageId: body })));
    for (const message of await receiveAll(receiver, bodies.length)) {
      await receiver.deadLetterMessage(message, {
        deadLetterReason: 'Poisoned',
        deadLetterErrorDescription: '',
      });
    }
  }

  it('peeks the sub-queue page by page, in sequence order, without locking', async () => {
    await deadLetter('dlq-peek', ['a', 'b', 'c', 'd', 'e']);
    const peeker = bus.deadLetterReceiver('dlq-peek', { skipParsingBodyAsJson: true });
    const locker = bus.deadLetterReceiver('dlq-peek');

    const first = await peeker.peekMessages(2);
    const second = await peeker.peekMessages(2);
    const third = await peeker.peekMessages(2);
    const fourth = await peeker.peekMessages(2);
    const locked = await locker.receiveMessages(5, { maxWaitTimeInMs: 2000 });

    const pages = [first, second, third].map((page) => page.map((message) => message.messageId));
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(fourth).toEqual([]);
    expect(Buffer.isBuffer(first[0]?.body)).toBe(true);
    expect(first[0]?.deadLetterReason).toBe('Poisoned');
    expect(locked).toHaveLength(5);
    await Promise.all(locked.map((message) => locker.completeMessage(message)));
  });

  it('keeps abandoned messages in the sub-queue, past MaxDeliveryCount and without counting, and removes a completed one', async () => {
    await deadLetter('dlq-lock', ['x', 'y', 'z']);
    const receiver = bus.deadLetterReceiver('dlq-lock');
    const peeker = bus.deadLetterReceiver('dlq-lock');

    const held = await receiver.receiveMessages(2, { maxWaitTimeInMs: 2000 });
    // From an explicit position: without one the SDK goes on from the last peek of any receiver on the entity.
    const first = { fromSequenceNumber: held[0]!.sequenceNumber! };
    const whileHeld = await peeker.peekMessages(10, first);
    await receiver.completeMessage(held[1]!);
    await receiver.abandonMessage(held[0]!);
    const again = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.abandonMessage(again[0]!);
    const left = await peeker.peekMessages(10, first);

    expect(held.map((message) => message.messageId)).toEqual(['x', 'y']);
    expect(whileHeld.map((message) => message.messageId)).toEqual(['x', 'y', 'z']);
    expect(again[0]?.messageId).toBe('x');
    // The service does not count an abandon in a dead-letter sub-queue.
    expect(left.map((message) => [message.messageId, message.deliveryCount])).toEqual([
      ['x', 0],
      ['z', 0],
    ]);
  });

  // The JavaScript SDK's live test "Batch Receiver - Settle deadlettered message › Throws error when dead lettering
  // a dead lettered message": the refused dead-letter leaves the message locked; it comes back when the lock runs
  // out, and in a dead-letter sub-queue that does not count a delivery either.
  it('refuses to dead-letter a dead-lettered message, and its lock running out there does not count a delivery', async () => {
    await deadLetter('dlq-again', ['poison']);
    const receiver = bus.deadLetterReceiver('dlq-again');

    const [first] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    const refused = await receiver.deadLetterMessage(first!).then(
      () => undefined,
      (error: { code?: string }) => error,
    );
    const [again] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    await receiver.completeMessage(again!);

    expect(first?.deliveryCount).toBe(0);
    expect(refused?.code).toBe('GeneralError');
    expect([again?.messageId, again?.deliveryCount]).toEqual(['poison', 0]);
    expect(await receiver.peekMessages(1, { fromSequenceNumber: again!.sequenceNumber! })).toEqual([]);
  });
});
