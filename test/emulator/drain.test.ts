import { useEmulator } from './emulatorHarness';

describe('Service Bus emulator: drained credit', () => {
  const bus = useEmulator({ queues: { drained: {} } });

  it('gives a drained link no more messages: the next one goes to the receiver that asks for it', async () => {
    const sender = bus.sender('drained');
    const drained = bus.receiver('drained');
    const waiting = bus.receiver('drained');
    await sender.sendMessages({ body: 'first', messageId: 'first' });
    // Asks for 5, gets 1, and drains the 4 credits left when it returns.
    const [first] = await drained.receiveMessages(5, { maxWaitTimeInMs: 2_000 });

    const next = waiting.receiveMessages(1, { maxWaitTimeInMs: 3_000 });
    await sender.sendMessages({ body: 'second', messageId: 'second' });
    const [second] = await next;

    expect(first?.messageId).toBe('first');
    expect(second?.messageId).toBe('second');
    await drained.completeMessage(first!);
    await waiting.completeMessage(second!);
  });
});
