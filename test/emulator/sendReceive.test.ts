import { isServiceBusError } from '@azure/service-bus';
import { receiveAll, useEmulator } from './emulatorHarness';

describe('Service Bus emulator: sending and receiving', () => {
  const bus = useEmulator({
    queues: {
      basic: {},
      thousand: {},
      'broker-id': {},
      'body-kinds': {},
      batch: {},
      'too-large': {},
      'receive-and-delete': {},
      'two-receivers': { LockDuration: 'PT1M' },
      credit: {},
      'long-run': {},
      drain: {},
      'broker-annotations': {},
    },
  });

  it('delivers a sent message with its properties and a delivery count of 0', async () => {
    const sender = bus.sender('basic');
    const receiver = bus.receiver('basic');

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
    expect(message?.lockToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await receiver.completeMessage(message!);
  });

  it('receives 1,000 messages sent in batches exactly once', async () => {
    const sender = bus.sender('thousand');
    const receiver = bus.receiver('thousand');
    const sent = Array.from({ length: 1000 }, (_, i) => `msg-${i}`);

    for (let start = 0; start < sent.length; start += 100) {
      await sender.sendMessages(sent.slice(start, start + 100).map((id) => ({ body: id, messageId: id })));
    }
    const received: string[] = [];
    while (received.length < sent.length) {
      const batch = await receiver.receiveMessages(200, { maxWaitTimeInMs: 2000 });
      if (batch.length === 0) break;
      for (const message of batch) {
        received.push(String(message.messageId));
        await receiver.completeMessage(message);
      }
    }
    const extra = await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 });

    expect(received).toHaveLength(1000);
    expect(new Set(received).size).toBe(1000);
    expect(new Set(received)).toEqual(new Set(sent));
    expect(extra).toHaveLength(0);
  });

  it('keeps one receiver link flowing past 2,048 settled messages', async () => {
    const sender = bus.sender('long-run');
    const receiver = bus.receiver('long-run');
    const total = 2500;
    for (let start = 0; start < total; start += 250) {
      await sender.sendMessages(Array.from({ length: 250 }, (_, i) => ({ body: start + i })));
    }

    let completed = 0;
    await new Promise<void>((resolve, reject) => {
      receiver.subscribe(
        {
          processMessage: async (message) => {
            await receiver.completeMessage(message);
            if (++completed === total) resolve();
          },
          processError: async ({ error }) => reject(error),
        },
        { autoCompleteMessages: false, maxConcurrentCalls: 50 },
      );
    });

    expect(completed).toBe(total);
  });

  it('answers a drain request, so a receive asking for more than is there returns promptly', async () => {
    const sender = bus.sender('drain');
    const receiver = bus.receiver('drain');
    await sender.sendMessages({ body: 'only one' });

    const started = Date.now();
    const first = await receiver.receiveMessages(10, { maxWaitTimeInMs: 10_000 });
    const elapsed = Date.now() - started;
    await receiver.completeMessage(first[0]!);
    await sender.sendMessages({ body: 'next' });
    const second = await receiver.receiveMessages(10, { maxWaitTimeInMs: 10_000 });

    expect(first.map((message) => message.body)).toEqual(['only one']);
    // The SDK returns 1 s after the first message once drained; without a drain reply it waits 1 s more.
    expect(elapsed).toBeLessThan(1800);
    expect(second.map((message) => message.body)).toEqual(['next']);
    await receiver.completeMessage(second[0]!);
  });

  it('sets its own broker annotations, ignoring those a sender supplies', async () => {
    const sender = bus.sender('broker-annotations');
    const receiver = bus.receiver('broker-annotations');

    await sender.sendMessages({
      bodyType: 'value',
      body: 'resent',
      messageAnnotations: {
        'x-opt-sequence-number': 999,
        'x-opt-deadletter-source': 'elsewhere',
        'x-opt-locked-until': new Date(0),
        'x-custom': 'kept',
      },
    });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(message?.sequenceNumber?.toNumber()).toBe(1);
    expect(message?.deadLetterSource).toBeUndefined();
    expect(message?.lockedUntilUtc?.getTime()).toBeGreaterThan(Date.now());
    expect(message?._rawAmqpMessage.messageAnnotations?.['x-custom']).toBe('kept');
    await receiver.completeMessage(message!);
  });

  it('assigns a message id when the sender gives none', async () => {
    const sender = bus.sender('broker-id');
    const receiver = bus.receiver('broker-id');

    await sender.sendMessages({ body: 'no id' });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(typeof message?.messageId).toBe('string');
    expect(String(message?.messageId)).not.toHaveLength(0);
    await expect(receiver.completeMessage(message!)).resolves.toBeUndefined();
  });

  it('preserves data, value and sequence bodies', async () => {
    const sender = bus.sender('body-kinds');
    const receiver = bus.receiver('body-kinds', { skipParsingBodyAsJson: true });
    const bodies: { bodyType: 'data' | 'value' | 'sequence'; body: unknown }[] = [
      { bodyType: 'data', body: Buffer.from([0, 1, 2, 250, 255]) },
      { bodyType: 'value', body: { nested: { list: [1, 'two', true] }, text: 'é' } },
      { bodyType: 'sequence', body: [[1, 'a'], [{ b: 2 }]] },
    ];

    for (const body of bodies) await sender.sendMessages(body);
    const received = await receiveAll(receiver, 3);

    expect(received.map((message) => message._rawAmqpMessage.bodyType)).toEqual([
      'data',
      'value',
      'sequence',
    ]);
    expect(Buffer.from(received[0]?.body as Buffer)).toEqual(Buffer.from([0, 1, 2, 250, 255]));
    expect(received[1]?.body).toEqual({ nested: { list: [1, 'two', true] }, text: 'é' });
    expect(received[2]?.body).toEqual([[1, 'a'], [{ b: 2 }]]);
  });

  it('reports the link message size as the batch limit and delivers a full batch', async () => {
    const sender = bus.sender('batch');
    const receiver = bus.receiver('batch');

    const batch = await sender.createMessageBatch();
    let added = 0;
    while (added < 50 && batch.tryAddMessage({ body: `item-${added}` })) added++;
    await sender.sendMessages(batch);
    const received = await receiveAll(receiver, added);

    expect(batch.maxSizeInBytes).toBe(256 * 1024);
    expect(received.map((message) => message.body)).toEqual(
      Array.from({ length: added }, (_, i) => `item-${i}`),
    );
  });

  it('refuses a message larger than 256 KB', async () => {
    const sender = bus.sender('too-large');

    const error = await sender
      .sendMessages({ body: Buffer.alloc(300 * 1024, 1) })
      .catch((caught: unknown) => caught);

    expect(isServiceBusError(error)).toBe(true);
    expect((error as { code?: string }).code).toBe('MessageSizeExceeded');
  });

  it('removes a message on delivery in receive-and-delete mode', async () => {
    const sender = bus.sender('receive-and-delete');
    const receiver = bus.receiver('receive-and-delete', { receiveMode: 'receiveAndDelete' });

    await sender.sendMessages({ body: 'once' });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    const peeked = await receiver.peekMessages(10);

    expect(message?.body).toBe('once');
    expect(message?.lockToken).toBeUndefined();
    expect(peeked).toHaveLength(0);
  });

  it('never gives two concurrent receivers the same message while it is locked', async () => {
    const sender = bus.sender('two-receivers');
    const first = bus.receiver('two-receivers');
    const second = bus.receiver('two-receivers');
    await sender.sendMessages(Array.from({ length: 40 }, (_, i) => ({ body: i, messageId: `two-${i}` })));

    const [a, b] = await Promise.all([
      first.receiveMessages(40, { maxWaitTimeInMs: 2000 }),
      second.receiveMessages(40, { maxWaitTimeInMs: 2000 }),
    ]);
    const idsA = a.map((message) => String(message.messageId));
    const idsB = b.map((message) => String(message.messageId));

    expect(idsA.filter((id) => idsB.includes(id))).toEqual([]);
    expect(idsA.length + idsB.length).toBe(40);
  });

  it('sends a receiver no more messages than its link credit', async () => {
    const sender = bus.sender('credit');
    const small = bus.receiver('credit');
    const rest = bus.receiver('credit');
    await sender.sendMessages(Array.from({ length: 5 }, (_, i) => ({ body: i })));

    const two = await small.receiveMessages(2, { maxWaitTimeInMs: 2000 });
    const three = await rest.receiveMessages(5, { maxWaitTimeInMs: 1500 });

    expect(two).toHaveLength(2);
    expect(three).toHaveLength(3);
  });
});
