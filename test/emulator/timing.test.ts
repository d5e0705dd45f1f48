import { setTimeout as sleep } from 'node:timers/promises';
import { useEmulator } from './emulatorHarness';

describe('Service Bus emulator: scheduling, duplicate detection and time-to-live', () => {
  const bus = useEmulator({
    queues: {
      scheduled: {},
      'scheduled-annotation': {},
      cancelled: {},
      duplicates: { RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 'PT10M' },
      'duplicate-window': { RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 500 },
      'ttl-dead-letter': { DeadLetteringOnMessageExpiration: true },
      'ttl-drop': { DefaultMessageTimeToLive: 300 },
    },
  });

  it('does not deliver a scheduled message before its time and delivers it after', async () => {
    const sender = bus.sender('scheduled');
    const receiver = bus.receiver('scheduled');
    // Far enough ahead that the early receive and the peek are over before it on a loaded machine.
    const at = new Date(Date.now() + 4000);

    const [sequenceNumber] = await sender.scheduleMessages({ body: 'on time' }, at);
    const early = await receiver.receiveMessages(1, { maxWaitTimeInMs: 400 });
    const [peeked] = await receiver.peekMessages(1, { fromSequenceNumber: sequenceNumber! });
    const [late] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 8000 });

    expect(early).toHaveLength(0);
    expect(peeked?.state).toBe('scheduled');
    expect(late?.body).toBe('on time');
    expect(late?.sequenceNumber?.toNumber()).toBe(sequenceNumber?.toNumber());
    expect(late!.enqueuedTimeUtc!.getTime()).toBeGreaterThanOrEqual(at.getTime());
    expect(Date.now()).toBeGreaterThanOrEqual(at.getTime());
    await receiver.completeMessage(late!);
  });

  it('holds a message sent with scheduledEnqueueTimeUtc until that time', async () => {
    const sender = bus.sender('scheduled-annotation');
    const receiver = bus.receiver('scheduled-annotation');
    const at = new Date(Date.now() + 800);

    await sender.sendMessages({ body: 'annotated', scheduledEnqueueTimeUtc: at });
    const early = await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 });
    const [late] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 3000 });

    expect(early).toHaveLength(0);
    expect(late?.body).toBe('annotated');
    expect(late?.scheduledEnqueueTimeUtc?.getTime()).toBe(at.getTime());
    expect(Date.now()).toBeGreaterThanOrEqual(at.getTime());
    await receiver.completeMessage(late!);
  });

  it('never delivers a cancelled scheduled message', async () => {
    const sender = bus.sender('cancelled');
    const receiver = bus.receiver('cancelled');
    const at = new Date(Date.now() + 500);

    const [sequenceNumber] = await sender.scheduleMessages({ body: 'cancel me' }, at);
    await sender.cancelScheduledMessages(sequenceNumber!);
    const received = await receiver.receiveMessages(1, { maxWaitTimeInMs: 1200 });
    const peeked = await receiver.peekMessages(1, { fromSequenceNumber: sequenceNumber! });

    expect(received).toHaveLength(0);
    expect(peeked).toHaveLength(0);
  });

  it('drops a message whose id was seen inside the duplicate-detection window', async () => {
    const sender = bus.sender('duplicates');
    const receiver = bus.receiver('duplicates');

    await sender.sendMessages({ body: 'first', messageId: 'same-id' });
    await sender.sendMessages({ body: 'second', messageId: 'same-id' });
    await sender.sendMessages([
      { body: 'third', messageId: 'same-id' },
      { body: 'other', messageId: 'other-id' },
    ]);
    const received = await receiver.receiveMessages(10, { maxWaitTimeInMs: 1200 });

    expect(received.map((message) => message.body)).toEqual(['first', 'other']);
  });

  it('accepts a repeated message id once the duplicate-detection window has passed', async () => {
    const sender = bus.sender('duplicate-window');
    const receiver = bus.receiver('duplicate-window');

    await sender.sendMessages({ body: 'first', messageId: 'again' });
    await sleep(600);
    await sender.sendMessages({ body: 'after window', messageId: 'again' });
    const received = await receiver.receiveMessages(10, { maxWaitTimeInMs: 1200 });

    expect(received.map((message) => message.body)).toEqual(['first', 'after window']);
  });

  it('dead-letters an expired message with reason TTLExpiredException when the queue asks for it', async () => {
    const sender = bus.sender('ttl-dead-letter');
    const receiver = bus.receiver('ttl-dead-letter');
    const deadLetters = bus.deadLetterReceiver('ttl-dead-letter');

    await sender.sendMessages({ body: 'short-lived', timeToLive: 300 });
    const [dead] = await deadLetters.receiveMessages(1, { maxWaitTimeInMs: 3000 });
    const live = await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 });

    expect(dead?.body).toBe('short-lived');
    expect(dead?.deadLetterReason).toBe('TTLExpiredException');
    expect(dead?.deadLetterSource).toBe('ttl-dead-letter');
    expect(live).toHaveLength(0);
    await deadLetters.completeMessage(dead!);
  });

  it("drops an expired message when the queue does not dead-letter on expiry, using the queue's default TTL", async () => {
    const sender = bus.sender('ttl-drop');
    const receiver = bus.receiver('ttl-drop');
    const deadLetters = bus.deadLetterReceiver('ttl-drop');

    await sender.sendMessages({ body: 'gone' });
    const [before] = await receiver.peekMessages(1);
    await sleep(500);
    const after = await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 });
    const dead = await deadLetters.peekMessages(1);

    expect(before?.body).toBe('gone');
    expect(after).toHaveLength(0);
    expect(dead).toHaveLength(0);
  });
});
