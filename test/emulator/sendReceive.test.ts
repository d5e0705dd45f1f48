import { startHarness, type Harness } from './emulatorHarness';

describe('Service Bus emulator: sending and receiving', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ basic: {} });
  });

  afterAll(async () => {
    await harness.close();
  });

  it('delivers a sent message with its properties and a delivery count of 0', async () => {
    const sender = harness.client.createSender('basic');
    const receiver = harness.client.createReceiver('basic');

    await sender.sendMessages({
      body: { hello: 'world' },
      messageId: 'm-1',
      correlationId: 'c-1',
      subject: 'greeting',
      contentType: 'application/json',
      applicationProperties: { JobType: 'greet', Attempt: 1 },
    });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(message?.body).toEqual({ hello: 'world' });
    expect(message?.messageId).toBe('m-1');
    expect(message?.correlationId).toBe('c-1');
    expect(message?.subject).toBe('greeting');
    expect(message?.contentType).toBe('application/json');
    expect(message?.applicationProperties).toEqual({ JobType: 'greet', Attempt: 1 });
    expect(message?.deliveryCount).toBe(0);
    expect(message?.sequenceNumber?.toNumber()).toBeGreaterThan(0);
    expect(message?.enqueuedTimeUtc).toBeInstanceOf(Date);
    expect(message?.lockedUntilUtc?.getTime()).toBeGreaterThan(Date.now());
    expect(message?.lockToken).toMatch(/^[0-9a-f-]{36}$/);
    await receiver.completeMessage(message!);
    await sender.close();
    await receiver.close();
  });
});
