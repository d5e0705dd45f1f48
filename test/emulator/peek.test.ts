import { useEmulator } from './emulatorHarness';

describe('Service Bus emulator: peek', () => {
  const bus = useEmulator({ queues: { peek: {}, 'peek-empty': {} } });

  it('peeks messages in sequence order without locking them', async () => {
    const sender = bus.sender('peek');
    const peeker = bus.receiver('peek');
    const receiver = bus.receiver('peek');
    await sender.sendMessages([{ body: 'a' }, { body: 'b' }, { body: 'c' }]);

    const peeked = await peeker.peekMessages(2);
    const next = await peeker.peekMessages(5);
    const received = await receiver.receiveMessages(3, { maxWaitTimeInMs: 2000 });

    expect(peeked.map((message) => message.body)).toEqual(['a', 'b']);
    expect(peeked[0]?.lockToken).toBeUndefined();
    expect(next.map((message) => message.body)).toEqual(['c']);
    expect(received.map((message) => message.body)).toEqual(['a', 'b', 'c']);
    expect(received.map((message) => message.deliveryCount)).toEqual([0, 0, 0]);
  });

  it('peeks nothing from an empty queue', async () => {
    const receiver = bus.receiver('peek-empty');

    const peeked = await receiver.peekMessages(10);

    expect(peeked).toEqual([]);
  });
});
