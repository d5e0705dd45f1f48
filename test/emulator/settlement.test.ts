import { setTimeout as sleep } from 'node:timers/promises';
import { isServiceBusError } from '@azure/service-bus';
import { useEmulator } from './emulatorHarness';

describe('Service Bus emulator: settlement and locks', () => {
  const bus = useEmulator({
    queues: {
      abandon: { MaxDeliveryCount: 10 },
      'dead-letter': {},
      'max-delivery': { MaxDeliveryCount: 2 },
      defer: {},
      'defer-management': { MaxDeliveryCount: 10 },
      'lock-expiry': { LockDuration: 1000, MaxDeliveryCount: 10 },
      'renew-lock': { LockDuration: 1000 },
      resend: {},
      'forward-source': { ForwardTo: 'forward-target', MaxDeliveryCount: 1 },
      'forward-target': { ForwardDeadLetteredMessagesTo: 'forward-dead', MaxDeliveryCount: 1 },
      'forward-dead': {},
      'management-lock-lost': { LockDuration: 500 },
    },
  });

  it('redelivers an abandoned message with the delivery count one higher and the modified properties', async () => {
    const sender = bus.sender('abandon');
    const receiver = bus.receiver('abandon');
    await sender.sendMessages({ body: 'retry me', applicationProperties: { Attempt: 1 } });

    const [first] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.abandonMessage(first!, { Attempt: 2, Reason: 'transient' });
    const [second] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(first?.deliveryCount).toBe(0);
    expect(second?.deliveryCount).toBe(1);
    expect(second?.sequenceNumber?.toNumber()).toBe(first?.sequenceNumber?.toNumber());
    expect(second?.applicationProperties).toEqual({ Attempt: 2, Reason: 'transient' });
    expect(second?.lockToken).not.toBe(first?.lockToken);
    await receiver.completeMessage(second!);
  });

  it('moves a dead-lettered message to the dead-letter sub-queue with its reason and description', async () => {
    const sender = bus.sender('dead-letter');
    const receiver = bus.receiver('dead-letter');
    const deadLetters = bus.deadLetterReceiver('dead-letter');
    await sender.sendMessages({ body: 'poison', messageId: 'dl-1' });

    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.deadLetterMessage(message!, {
      deadLetterReason: 'Poisoned',
      deadLetterErrorDescription: 'handler refused it',
    });
    const [dead] = await deadLetters.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    const remaining = await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 });

    expect(dead?.messageId).toBe('dl-1');
    expect(dead?.body).toBe('poison');
    expect(dead?.deadLetterReason).toBe('Poisoned');
    expect(dead?.deadLetterErrorDescription).toBe('handler refused it');
    expect(dead?.deadLetterSource).toBe('dead-letter');
    expect(dead?.enqueuedSequenceNumber).toBe(message?.sequenceNumber?.toNumber());
    expect(remaining).toHaveLength(0);
    await deadLetters.completeMessage(dead!);
  });

  it('dead-letters a message after MaxDeliveryCount deliveries with reason MaxDeliveryCountExceeded', async () => {
    const sender = bus.sender('max-delivery');
    const receiver = bus.receiver('max-delivery');
    const deadLetters = bus.deadLetterReceiver('max-delivery');
    await sender.sendMessages({ body: 'fails twice' });

    const counts: number[] = [];
    for (let i = 0; i < 2; i++) {
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      counts.push(message!.deliveryCount!);
      await receiver.abandonMessage(message!);
    }
    const third = await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 });
    const [dead] = await deadLetters.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(counts).toEqual([0, 1]);
    expect(third).toHaveLength(0);
    expect(dead?.body).toBe('fails twice');
    expect(dead?.deadLetterReason).toBe('MaxDeliveryCountExceeded');
    await deadLetters.completeMessage(dead!);
  });

  it('lets a dead-lettered message be received and sent again to the queue', async () => {
    const sender = bus.sender('resend');
    const receiver = bus.receiver('resend');
    const deadLetters = bus.deadLetterReceiver('resend');
    await sender.sendMessages({ body: { job: 42 }, messageId: 'again' });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.deadLetterMessage(message!, {
      deadLetterReason: 'NoHandler',
      deadLetterErrorDescription: '',
    });

    const [dead] = await deadLetters.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await sender.sendMessages(dead!);
    await deadLetters.completeMessage(dead!);
    const [again] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(again?.body).toEqual({ job: 42 });
    expect(again?.messageId).toBe('again');
    expect(again?.deliveryCount).toBe(0);
    await receiver.completeMessage(again!);
  });

  it('keeps a deferred message out of the queue until it is received by sequence number', async () => {
    const sender = bus.sender('defer');
    const receiver = bus.receiver('defer');
    await sender.sendMessages({ body: 'later' });

    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.deferMessage(message!);
    const meanwhile = await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 });
    const [peeked] = await receiver.peekMessages(1, { fromSequenceNumber: message!.sequenceNumber! });
    const [deferred] = await receiver.receiveDeferredMessages(message!.sequenceNumber!);
    await receiver.completeMessage(deferred!);
    const afterComplete = await receiver.peekMessages(1, { fromSequenceNumber: message!.sequenceNumber! });

    expect(meanwhile).toHaveLength(0);
    expect(peeked?.state).toBe('deferred');
    expect(deferred?.body).toBe('later');
    expect(deferred?.state).toBe('deferred');
    expect(afterComplete).toHaveLength(0);
  });

  it('settles through $management update-disposition: abandon and dead-letter of a deferred message', async () => {
    const sender = bus.sender('defer-management');
    const receiver = bus.receiver('defer-management');
    const deadLetters = bus.deadLetterReceiver('defer-management');
    await sender.sendMessages({ body: 'managed' });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.deferMessage(message!);

    const [first] = await receiver.receiveDeferredMessages(message!.sequenceNumber!);
    await receiver.abandonMessage(first!);
    const [second] = await receiver.receiveDeferredMessages(message!.sequenceNumber!);
    await receiver.deadLetterMessage(second!, {
      deadLetterReason: 'Poisoned',
      deadLetterErrorDescription: 'via mgmt',
    });
    const [dead] = await deadLetters.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    const notDeferred = await receiver
      .receiveDeferredMessages(message!.sequenceNumber!)
      .catch((error: unknown) => error);

    expect(second?.deliveryCount).toBe(first!.deliveryCount! + 1);
    expect(dead?.deadLetterReason).toBe('Poisoned');
    expect(dead?.deadLetterErrorDescription).toBe('via mgmt');
    expect(isServiceBusError(notDeferred) && notDeferred.code).toBe('MessageNotFound');
    await deadLetters.completeMessage(dead!);
  });

  it('redelivers a message whose lock expired with the delivery count one higher and refuses the old lock', async () => {
    const sender = bus.sender('lock-expiry');
    const receiver = bus.receiver('lock-expiry', { maxAutoLockRenewalDurationInMs: 0 });
    await sender.sendMessages({ body: 'slow' });

    const [first] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    const [second] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 4000 });
    const settleOld = await receiver.completeMessage(first!).catch((error: unknown) => error);

    expect(second?.body).toBe('slow');
    expect(second?.deliveryCount).toBe(1);
    expect(second?.lockToken).not.toBe(first?.lockToken);
    expect(isServiceBusError(settleOld) && settleOld.code).toBe('MessageLockLost');
    await expect(receiver.completeMessage(second!)).resolves.toBeUndefined();
  });

  it('extends lockedUntil when the lock is renewed', async () => {
    const sender = bus.sender('renew-lock');
    const receiver = bus.receiver('renew-lock', { maxAutoLockRenewalDurationInMs: 0 });
    await sender.sendMessages({ body: 'long job' });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    const lockedUntil = message!.lockedUntilUtc!.getTime();

    await sleep(600);
    const renewed = await receiver.renewMessageLock(message!);
    await sleep(600);

    expect(renewed.getTime()).toBeGreaterThanOrEqual(lockedUntil + 500);
    expect(message?.lockedUntilUtc?.getTime()).toBe(renewed.getTime());
    // Past the original lock's end, but inside the renewed one:
    await expect(receiver.completeMessage(message!)).resolves.toBeUndefined();
  });

  it('forwards messages to ForwardTo and dead-lettered ones to ForwardDeadLetteredMessagesTo', async () => {
    const sender = bus.sender('forward-source');
    const target = bus.receiver('forward-target');
    const dead = bus.receiver('forward-dead');

    await sender.sendMessages({ body: 'hop' });
    const [forwarded] = await target.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await target.abandonMessage(forwarded!);
    const [deadLettered] = await dead.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(forwarded?.body).toBe('hop');
    expect(deadLettered?.body).toBe('hop');
    expect(deadLettered?.deadLetterReason).toBe('MaxDeliveryCountExceeded');
    await dead.completeMessage(deadLettered!);
  });

  it('refuses a $management settlement whose lock expired with MessageLockLost', async () => {
    const sender = bus.sender('management-lock-lost');
    const receiver = bus.receiver('management-lock-lost', {
      maxAutoLockRenewalDurationInMs: 0,
    });
    await sender.sendMessages({ body: 'deferred' });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.deferMessage(message!);

    const [deferred] = await receiver.receiveDeferredMessages(message!.sequenceNumber!);
    await sleep(700);
    const error = await receiver.completeMessage(deferred!).catch((caught: unknown) => caught);
    const [again] = await receiver.receiveDeferredMessages(message!.sequenceNumber!);

    expect(isServiceBusError(error) && error.code).toBe('MessageLockLost');
    expect(again?.body).toBe('deferred');
    await receiver.completeMessage(again!);
  });
});
