import { startHarness, type Harness } from './emulatorHarness';

describe('Service Bus emulator: peek', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ peek: {}, 'peek-empty': {} });
  });

  afterAll(async () => {
    await harness.close();
  });

  it('peeks messages in sequence order without locking them', async () => {
    const sender = harness.client.createSender('peek');
    const peeker = harness.client.createReceiver('peek');
    const receiver = harness.client.createReceiver('peek');
    await sender.sendMessages([{ body: 'a' }, { body: 'b' }, { body: 'c' }]);

    const peeked = await peeker.peekMessages(2);
    const next = await peeker.peekMessages(5);
    const received = await receiver.receiveMessages(3, { maxWaitTimeInMs: 2000 });

    expect(peeked.map((message) => message.body)).toEqual(['a', 'b']);
    expect(peeked[0]?.lockToken).toBeUndefined();
    expect(next.map((message) => message.body)).toEqual(['c']);
    expect(received.map((message) => message.body)).toEqual(['a', 'b', 'c']);
    expect(received.map((message) => message.deliveryCount)).toEqual([0, 0, 0]);
    await sender.close();
    await peeker.close();
    await receiver.close();
  });

  it('peeks nothing from an empty queue', async () => {
    const receiver = harness.client.createReceiver('peek-empty');

    const peeked = await receiver.peekMessages(10);

    expect(peeked).toEqual([]);
    await receiver.close();
  });
});
