import { setTimeout as sleep } from 'node:timers/promises';
import {
  ServiceBusClient,
  isServiceBusError,
  type ServiceBusReceivedMessage,
  type ServiceBusSessionReceiver,
} from '@azure/service-bus';
import { createServiceBusAdministrationClient } from '../../src/queue/serviceBusClientFactory';
import { receiveAll, useEmulator } from './emulatorHarness';

/** Cases of the JavaScript SDK's session live tests (sessionsTests, sessionsRequiredCleanEntityTests,
 * renewLockSessions, streamingReceiverSessions), against the emulator, with short locks. */
describe('Service Bus emulator: message sessions', () => {
  const session = (extra: Record<string, unknown> = {}) => ({
    RequiresSession: true,
    MaxDeliveryCount: 10,
    ...extra,
  });
  const bus = useEmulator({
    queues: {
      'sessions-required': session(),
      'sessions-fifo': session(),
      'sessions-next': session(),
      'sessions-empty': session(),
      'sessions-wait': session(),
      'sessions-locked': session(),
      'sessions-state': session(),
      'sessions-renew': session({ LockDuration: 2000 }),
      'sessions-expiry': session({ LockDuration: 1000 }),
      'sessions-streaming-expiry': session({ LockDuration: 1000 }),
      'sessions-abandon': session(),
      'sessions-defer': session(),
      'sessions-dead-letter': session(),
      'sessions-close': session(),
      'sessions-delete': session(),
      'sessions-concurrent': session(),
      'sessions-peek': session(),
      'sessions-scheduled': session(),
      'sessions-forward-source': { ForwardTo: 'sessions-forward-target' },
      'sessions-forward-target': session(),
      'not-sessions': {},
    },
    // Python's uamqp SDK names no timeout for accept-next; the JavaScript SDK does (its retry timeout).
    acceptNextSessionTimeoutMs: 2000,
  });

  it('refuses a message without a session id on a queue that requires sessions', async () => {
    const sender = bus.sender('sessions-required');

    const error = await sender.sendMessages({ body: 'no session' }).catch((caught: unknown) => caught);
    const batchError = await sender
      .sendMessages([{ body: 'in a session', sessionId: 's' }, { body: 'not in one' }])
      .catch((caught: unknown) => caught);

    expect(String((error as Error).message)).toMatch(/The SessionId was not set on a message/);
    expect(String((batchError as Error).message)).toMatch(/The SessionId was not set on a message/);
    const receiver = await bus.acceptSession('sessions-required', 's');
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
  });

  it('receives only the accepted session, in order, and peeks only that session', async () => {
    const sender = bus.sender('sessions-fifo');
    await sender.sendMessages([
      { body: 'a1', sessionId: 'a' },
      { body: 'b1', sessionId: 'b' },
      { body: 'a2', sessionId: 'a' },
      { body: 'a3', sessionId: 'a' },
    ]);

    const receiver = await bus.acceptSession('sessions-fifo', 'a');
    const peeked = await receiver.peekMessages(10);
    const received = await receiveAll(receiver, 3);
    for (const message of received) await receiver.completeMessage(message);
    const more = await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 });

    expect(receiver.sessionId).toBe('a');
    expect(peeked.map((message) => [message.body, message.sessionId])).toEqual([
      ['a1', 'a'],
      ['a2', 'a'],
      ['a3', 'a'],
    ]);
    expect(received.map((message) => message.body)).toEqual(['a1', 'a2', 'a3']);
    expect(received.every((message) => message.sessionId === 'a')).toBe(true);
    expect(more).toHaveLength(0);
  });

  it('gives acceptNextSession the session with the oldest message, then the next one', async () => {
    const sender = bus.sender('sessions-next');
    await sender.sendMessages({ body: 'first', sessionId: 'older' });
    await sender.sendMessages({ body: 'second', sessionId: 'newer' });
    const started = Date.now();

    const first = await bus.acceptSession('sessions-next', undefined);
    const second = await bus.acceptSession('sessions-next', undefined);
    const [fromFirst] = await first.receiveMessages(2, { maxWaitTimeInMs: 1000 });
    const [fromSecond] = await second.receiveMessages(2, { maxWaitTimeInMs: 1000 });

    expect([first.sessionId, second.sessionId]).toEqual(['older', 'newer']);
    expect([fromFirst?.body, fromSecond?.body]).toEqual(['first', 'second']);
    // The lock's end comes in the attach (com.microsoft:locked-until-utc): one LockDuration (1 minute) away.
    expect(first.sessionLockedUntilUtc!.getTime()).toBeGreaterThanOrEqual(started + 59_000);
    expect(first.sessionLockedUntilUtc!.getTime()).toBeLessThanOrEqual(Date.now() + 61_000);
    await first.completeMessage(fromFirst!);
    await second.completeMessage(fromSecond!);
  });

  it('accepts a named session that has no messages yet, and delivers what arrives in it', async () => {
    const sender = bus.sender('sessions-empty');
    const receiver = await bus.acceptSession('sessions-empty', 'nothing-yet');
    await sender.sendMessages({ body: 'elsewhere', sessionId: 'other' });

    const none = await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 });
    await sender.sendMessages({ body: 'arrived', sessionId: 'nothing-yet' });
    const [arrived] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    const other = await bus.acceptSession('sessions-empty', undefined);
    const [elsewhere] = await other.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(none).toHaveLength(0);
    expect(arrived?.body).toBe('arrived');
    expect(other.sessionId).toBe('other');
    expect(elsewhere?.body).toBe('elsewhere');
    await receiver.completeMessage(arrived!);
    await other.completeMessage(elsewhere!);
  });

  it('fails acceptNextSession with ServiceTimeout when no session has messages, after the client timeout', async () => {
    const client = new ServiceBusClient(bus.emulator.connectionString, {
      retryOptions: { maxRetries: 0, timeoutInMs: 1000 },
    });
    const started = Date.now();

    const error = await client.acceptNextSession('sessions-wait').catch((caught: unknown) => caught);
    const elapsed = Date.now() - started;
    await client.close();

    expect(isServiceBusError(error) && error.code).toBe('ServiceTimeout');
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(3000);
  });

  it('answers a waiting acceptNextSession as soon as a session gets a message', async () => {
    const accepting = bus.acceptSession('sessions-wait', undefined);
    await sleep(300);

    await bus.sender('sessions-wait').sendMessages({ body: 'late', sessionId: 'late-session' });
    const receiver = await accepting;
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(receiver.sessionId).toBe('late-session');
    expect(message?.body).toBe('late');
    await receiver.completeMessage(message!);
  });

  it('refuses a second receiver for a locked session with SessionCannotBeLocked, and leaves the lock', async () => {
    await bus.sender('sessions-locked').sendMessages({ body: 'mine', sessionId: 'boo' });
    const holder = await bus.acceptSession('sessions-locked', 'boo');

    const error = await bus.client.acceptSession('sessions-locked', 'boo').catch((caught: unknown) => caught);
    const impatient = new ServiceBusClient(bus.emulator.connectionString, {
      retryOptions: { maxRetries: 0, timeoutInMs: 500 },
    });
    const nextError = await impatient.acceptNextSession('sessions-locked').catch((caught: unknown) => caught);
    await impatient.close();
    const [message] = await holder.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(isServiceBusError(error) && error.code).toBe('SessionCannotBeLocked');
    expect(isServiceBusError(nextError) && nextError.code).toBe('ServiceTimeout');
    expect(message?.body).toBe('mine');
    await holder.completeMessage(message!);
  });

  it('keeps session state across receivers, and clears it', async () => {
    await bus.sender('sessions-state').sendMessages({ body: 'stateful', sessionId: 'st' });
    const first = await bus.acceptSession('sessions-state', 'st');

    const initial = await first.getSessionState();
    await first.setSessionState('new_state');
    const afterSet = await first.getSessionState();
    await first.close();
    const second = await bus.acceptSession('sessions-state', undefined);
    const carried = await second.getSessionState();
    await second.setSessionState(null as unknown as string);
    const cleared = await second.getSessionState();
    const [message] = await second.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(initial).toBeFalsy();
    expect(afterSet).toBe('new_state');
    expect(second.sessionId).toBe('st');
    expect(carried).toBe('new_state');
    expect(cleared).toBeFalsy();
    await second.completeMessage(message!);
  });

  it('renews the session lock, which keeps the messages of the session locked', async () => {
    await bus.sender('sessions-renew').sendMessages({ body: 'long job', sessionId: 'r' });
    const receiver = await bus.acceptSession('sessions-renew', 'r', { maxAutoLockRenewalDurationInMs: 0 });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    const initial = receiver.sessionLockedUntilUtc!.getTime();

    await sleep(1000);
    const renewed = await receiver.renewSessionLock();
    await sleep(1500);

    expect(renewed.getTime()).toBeGreaterThanOrEqual(initial + 900);
    expect(receiver.sessionLockedUntilUtc?.getTime()).toBe(renewed.getTime());
    // The message was received 2.5 s ago with a 2 s lock: its lock is the session's.
    await expect(receiver.completeMessage(message!)).resolves.toBeUndefined();
  });

  it('loses an unrenewed session lock: SessionLockLost, and the message comes back counted', async () => {
    await bus.sender('sessions-expiry').sendMessages({ body: 'slow', sessionId: 'x' });
    const receiver = await bus.acceptSession('sessions-expiry', 'x', { maxAutoLockRenewalDurationInMs: 0 });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    await sleep(1500);
    const error = await receiver.completeMessage(message!).catch((caught: unknown) => caught);
    const next = await bus.acceptSession('sessions-expiry', undefined);
    const [again] = await next.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(isServiceBusError(error) && error.code).toBe('SessionLockLost');
    expect(next.sessionId).toBe('x');
    expect(again?.body).toBe('slow');
    expect(again?.deliveryCount).toBe(1);
    await next.completeMessage(again!);
  });

  it('tells a subscribed session receiver that the lock expired (SessionLockLost)', async () => {
    await bus.sender('sessions-streaming-expiry').sendMessages({ body: 'held', sessionId: 'y' });
    const receiver = await bus.acceptSession('sessions-streaming-expiry', 'y', {
      maxAutoLockRenewalDurationInMs: 0,
    });
    const errors: unknown[] = [];

    receiver.subscribe(
      { processMessage: () => sleep(1500), processError: async ({ error }) => void errors.push(error) },
      { autoCompleteMessages: false },
    );
    await sleep(2000);

    expect(errors.some((error) => isServiceBusError(error) && error.code === 'SessionLockLost')).toBe(true);
  });

  it('redelivers an abandoned message of a session first, with the delivery count one higher', async () => {
    await bus.sender('sessions-abandon').sendMessages([
      { body: 'one', sessionId: 'ab' },
      { body: 'two', sessionId: 'ab' },
    ]);
    const receiver = await bus.acceptSession('sessions-abandon', 'ab');

    const [first] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.abandonMessage(first!);
    const again = await receiveAll(receiver, 2);
    for (const message of again) await receiver.completeMessage(message);

    expect(again.map((message) => [message.body, message.deliveryCount])).toEqual([
      ['one', 1],
      ['two', 0],
    ]);
  });

  it('defers a message of a session and receives it by sequence number within the session', async () => {
    await bus.sender('sessions-defer').sendMessages([
      { body: 'later', sessionId: 'd' },
      { body: 'other session', sessionId: 'e' },
    ]);
    const receiver = await bus.acceptSession('sessions-defer', 'd');
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.deferMessage(message!);

    const [deferred] = await receiver.receiveDeferredMessages(message!.sequenceNumber!);
    await receiver.completeMessage(deferred!);
    const peeked = await receiver.peekMessages(10, { fromSequenceNumber: message!.sequenceNumber! });
    const other = await bus.acceptSession('sessions-defer', 'e');
    const [inOther] = await other.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    const wrongSession = await other
      .receiveDeferredMessages(message!.sequenceNumber!)
      .catch((caught: unknown) => caught);

    expect(deferred?.body).toBe('later');
    expect(deferred?.deliveryCount).toBe(1);
    expect(peeked).toHaveLength(0);
    expect(isServiceBusError(wrongSession) && wrongSession.code).toBe('MessageNotFound');
    await other.completeMessage(inOther!);
  });

  it('dead-letters a message of a session to the sub-queue, which a receiver without session reads', async () => {
    await bus.sender('sessions-dead-letter').sendMessages({ body: 'poison', sessionId: 'p' });
    const receiver = await bus.acceptSession('sessions-dead-letter', 'p');
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    await receiver.deadLetterMessage(message!, {
      deadLetterReason: 'Poisoned',
      deadLetterErrorDescription: 'refused',
    });
    const dead = await receiveAll(bus.deadLetterReceiver('sessions-dead-letter'), 1);
    const left = await receiver.peekMessages(10);

    expect(dead.map((m) => [m.body, m.sessionId, m.deadLetterReason])).toEqual([['poison', 'p', 'Poisoned']]);
    expect(left).toHaveLength(0);
  });

  it('releases the session lock when the receiver closes: another receiver accepts it at once', async () => {
    await bus.sender('sessions-close').sendMessages({ body: 'unsettled', sessionId: 'c' });
    const first = await bus.acceptSession('sessions-close', 'c');
    const [held] = await first.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    await first.close();
    const second = await bus.acceptSession('sessions-close', 'c');
    const [again] = await second.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(held?.body).toBe('unsettled');
    expect(again?.body).toBe('unsettled');
    expect(again?.deliveryCount).toBe(1);
    await second.completeMessage(again!);
  });

  it('receives and deletes within a session', async () => {
    await bus.sender('sessions-delete').sendMessages([
      { body: 'gone-1', sessionId: 'rd' },
      { body: 'gone-2', sessionId: 'rd' },
    ]);
    const receiver = await bus.acceptSession('sessions-delete', 'rd', { receiveMode: 'receiveAndDelete' });

    const received = await receiveAll(receiver, 2);
    const peeked = await receiver.peekMessages(10);

    expect(received.map((message) => message.body)).toEqual(['gone-1', 'gone-2']);
    expect(peeked).toHaveLength(0);
  });

  it('hands a subscribed session receiver two messages at once with maxConcurrentCalls 2', async () => {
    await bus.sender('sessions-concurrent').sendMessages([
      { body: 'c1', sessionId: 'cc' },
      { body: 'c2', sessionId: 'cc' },
    ]);
    const receiver = await bus.acceptSession('sessions-concurrent', 'cc');
    const inFlight: string[] = [];
    const settled: ServiceBusReceivedMessage[] = [];

    await new Promise<void>((resolve, reject) => {
      receiver.subscribe(
        {
          processMessage: async (message) => {
            inFlight.push(String(message.body));
            await sleep(500);
            expect(inFlight).toEqual(['c1', 'c2']);
            await receiver.completeMessage(message);
            settled.push(message);
            if (settled.length === 2) resolve();
          },
          processError: async ({ error }) => reject(error),
        },
        { autoCompleteMessages: false, maxConcurrentCalls: 2 },
      );
    });

    expect(settled.map((message) => message.body)).toEqual(['c1', 'c2']);
  });

  it('delivers a scheduled message of a session into its session when due', async () => {
    const sender = bus.sender('sessions-scheduled');
    await sender.scheduleMessages({ body: 'soon', sessionId: 'sch' }, new Date(Date.now() + 500));
    const refused = await sender
      .scheduleMessages({ body: 'no session' }, new Date(Date.now() + 500))
      .catch((caught: unknown) => caught);

    const receiver = await bus.acceptSession('sessions-scheduled', 'sch');
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 3000 });

    expect(message?.body).toBe('soon');
    expect(String((refused as Error).message)).toMatch(/The SessionId was not set on a message/);
    await receiver.completeMessage(message!);
  });

  it('dead-letters a message without a session id forwarded to a queue that requires sessions', async () => {
    const deadLetters = bus.deadLetterReceiver('sessions-forward-target');
    await bus.sender('sessions-forward-source').sendMessages({ body: 'no session' });

    const dead = await receiveAll(deadLetters, 1);

    expect(dead.map((m) => [m.body, m.deadLetterReason])).toEqual([['no session', 'Session id is null.']]);
    await deadLetters.completeMessage(dead[0]!);
  });

  it('refuses a session receiver on a queue without sessions, and a plain receiver on one with them', async () => {
    const started = Date.now();

    const sessionError = await bus.client
      .acceptSession('not-sessions', 's')
      .catch((caught: unknown) => caught);
    const plainError = await bus
      .receiver('sessions-peek')
      .receiveMessages(1, { maxWaitTimeInMs: 1000 })
      .catch((caught: unknown) => caught);

    expect(String((sessionError as Error).message)).toMatch(
      /A sessionful message receiver cannot be created on an entity that does not require sessions/,
    );
    expect(String((plainError as Error).message)).toMatch(
      /not possible for an entity that requires sessions to create a non-sessionful message receiver/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('gives a queue created with requiresSession through the administration client its sessions', async () => {
    const admin = createServiceBusAdministrationClient({
      connectionString: bus.emulator.connectionString,
      fullyQualifiedNamespace: undefined,
      identity: { managedIdentity: false, clientId: undefined },
      queueName: 'sessions-created',
      settlement: 'host',
    });
    await admin.createQueue('sessions-created', { requiresSession: true });

    const refused = await bus
      .sender('sessions-created')
      .sendMessages({ body: 'no session' })
      .catch((caught: unknown) => caught);
    await bus.sender('sessions-created').sendMessages({ body: 'made', sessionId: 'm' });
    const receiver = await bus.acceptSession('sessions-created', undefined);
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(String((refused as Error).message)).toMatch(/The SessionId was not set on a message/);
    expect([receiver.sessionId, message?.body]).toEqual(['m', 'made']);
    await receiver.completeMessage(message!);
  });

  it('peeks a session from acceptNextSession after putting a received message back', async () => {
    await bus.sender('sessions-peek').sendMessages({ body: 'look', sessionId: 'pk', messageId: 'pk-1' });
    const receiver: ServiceBusSessionReceiver = await bus.acceptSession('sessions-peek', undefined);
    const [received] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.abandonMessage(received!);

    const [peeked] = await receiver.peekMessages(1);
    const [again] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect([peeked?.body, peeked?.messageId, peeked?.sessionId]).toEqual(['look', 'pk-1', 'pk']);
    expect(again?.messageId).toBe('pk-1');
    await receiver.completeMessage(again!);
  });
});
