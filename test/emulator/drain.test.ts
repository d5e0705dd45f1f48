import { startHarness, type Harness } from './emulatorHarness';

describe('Service Bus emulator: drained credit', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ drained: {} });
  });

  afterAll(async () => {
    await harness.close();
  });

  it('gives a drained link no more messages: the next one goes to the receiver that asks for it', async () => {
    const sender = harness.client.createSender('drained');
    const drained = harness.client.createReceiver('drained');
    const waiting = harness.client.createReceiver('drained');
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
    await sender.close();
    await drained.close();
    await waiting.close();
  });
});
