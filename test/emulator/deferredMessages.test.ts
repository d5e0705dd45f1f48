import { useEmulator } from './emulatorHarness';

/** A uuid as text, or as the 16 bytes the SDK hands over (a Buffer, or its indexed copy), to plain hex. */
function uuidHex(value: unknown): string {
  if (typeof value === 'string') return value.replace(/-/g, '').toLowerCase();
  const bytes = Buffer.isBuffer(value)
    ? value
    : Buffer.from(Object.values((value ?? {}) as Record<string, number>));
  return bytes.toString('hex');
}

describe('Service Bus emulator: deferred messages as every SDK reads them', () => {
  const bus = useEmulator({
    queues: { deferred: { MaxDeliveryCount: 10 }, 'deferred-count': { MaxDeliveryCount: 10 } },
  });

  it('returns a message received by sequence number with its lock token in the x-opt-lock-token delivery annotation', async () => {
    const sender = bus.sender('deferred');
    const receiver = bus.receiver('deferred');
    await sender.sendMessages({ body: 'deferred' });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.deferMessage(message!);

    const [deferred] = await receiver.receiveDeferredMessages(message!.sequenceNumber!);
    const annotation = deferred?._rawAmqpMessage.deliveryAnnotations?.['x-opt-lock-token'];

    // The Python SDK settles with this token (a uuid in RFC byte order); the JavaScript SDK with lockToken.
    expect(uuidHex(annotation)).toBe(uuidHex(deferred?.lockToken));
    await expect(receiver.completeMessage(deferred!)).resolves.toBeUndefined();
  });

  it('counts each fetch of a deferred message as a delivery, and not the abandon that ends it', async () => {
    const sender = bus.sender('deferred-count');
    const receiver = bus.receiver('deferred-count');
    await sender.sendMessages({ body: 'counted' });
    const [received] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.deferMessage(received!);

    const [first] = await receiver.receiveDeferredMessages(received!.sequenceNumber!);
    await receiver.abandonMessage(first!);
    const [second] = await receiver.receiveDeferredMessages(received!.sequenceNumber!);
    await receiver.completeMessage(second!);

    expect([received?.deliveryCount, first?.deliveryCount, second?.deliveryCount]).toEqual([0, 1, 2]);
  });
});
