import { amqpMessage } from '../../../tools/servicebus-emulator/amqpCodec';
import { resolveNamespace } from '../../../tools/servicebus-emulator/emulatorConfig';
import type { SessionOwner } from '../../../tools/servicebus-emulator/messageSession';
import { QueueEntity, type MessageLock } from '../../../tools/servicebus-emulator/queueEntity';
import { parseStoredMessage } from '../../../tools/servicebus-emulator/storedMessage';

const LOCK_MS = 1000;

function sessionQueue(): QueueEntity {
  const [settings] = resolveNamespace(undefined, {
    q: { RequiresSession: true, LockDuration: LOCK_MS, MaxDeliveryCount: 10 },
  }).queues;
  return new QueueEntity(settings!, 'q', { requestDeadline: () => undefined, findQueue: () => undefined });
}

function message(body: string, sessionId: string) {
  return parseStoredMessage(amqpMessage.encode({ body, group_id: sessionId }));
}

/** A receiver link as the queue sees it: unlimited credit, records what it is given and whether it lost its lock. */
function owner(): SessionOwner & {
  received: { body: string; count: number; lock: MessageLock }[];
  lost: string[];
} {
  const received: { body: string; count: number; lock: MessageLock }[] = [];
  const lost: string[] = [];
  return {
    receiveMode: 'peekLock',
    received,
    lost,
    capacity: () => 100,
    deliver: (encoded, lock) => {
      const decoded = amqpMessage.decode(encoded);
      received.push({ body: String(decoded.body), count: Number(decoded.delivery_count ?? 0), lock: lock! });
    },
    loseSession: (condition) => lost.push(condition),
  };
}

describe('a queue that requires sessions', () => {
  it('hands a session to one receiver at a time, in sequence order', () => {
    const queue = sessionQueue();
    const first = owner();
    const second = owner();
    queue.send(message('a1', 'a'));
    queue.send(message('b1', 'b'));
    queue.send(message('a2', 'a'));

    const accepted = queue.acceptSession('a', first);
    const refused = queue.acceptSession('a', second);
    const next = queue.acceptNextSession(second);

    expect(accepted?.id).toBe('a');
    expect(refused).toBeUndefined();
    expect(next?.id).toBe('b');
    expect(first.received.map((entry) => entry.body)).toEqual(['a1', 'a2']);
    expect(second.received.map((entry) => entry.body)).toEqual(['b1']);
  });

  it('gives a session whose lock ran out to the next receiver, before any sweep, and tells the old one', () => {
    const queue = sessionQueue();
    const stale = owner();
    const fresh = owner();
    queue.send(message('held', 's'));
    const now = Date.now();
    queue.acceptSession('s', stale, now);

    const accepted = queue.acceptSession('s', fresh, now + LOCK_MS + 1);
    queue.send(message('after', 's'));

    expect(accepted?.owner).toBe(fresh);
    expect(stale.lost).toEqual(['com.microsoft:session-lock-lost']);
    expect(fresh.received.map((entry) => [entry.body, entry.count])).toEqual([
      ['held', 1],
      ['after', 0],
    ]);
  });

  it('gives an empty session whose lock ran out to the next receiver, which then gets what arrives in it', () => {
    const queue = sessionQueue();
    const fresh = owner();
    const now = Date.now();
    queue.acceptSession('e', owner(), now);

    queue.acceptSession('e', fresh, now + LOCK_MS + 1);
    queue.send(message('arrived', 'e'));

    expect(fresh.received.map((entry) => entry.body)).toEqual(['arrived']);
  });

  it('keeps the locks of a session’s messages with the session lock: renewing one renews the other', () => {
    const queue = sessionQueue();
    const holder = owner();
    queue.send(message('m', 's'));
    const now = Date.now();
    const session = queue.acceptSession('s', holder, now)!;
    const lock = holder.received[0]!.lock;

    const renewed = queue.renewSessionLock('s', now + 500);

    expect(renewed).toBe(now + 500 + LOCK_MS);
    expect(lock.lockedUntil).toBe(session.lockedUntil);
    expect(queue.complete(lock.token.id, now + LOCK_MS + 100)).toEqual({ ok: true });
  });

  it('loses the session at its deadline: the receiver is told, its messages come back counted, the session is free', () => {
    const queue = sessionQueue();
    const holder = owner();
    const next = owner();
    queue.send(message('slow', 's'));
    const now = Date.now();
    queue.acceptSession('s', holder, now);

    queue.sweep(now + LOCK_MS);
    const renewed = queue.renewSessionLock('s', now + LOCK_MS);
    const accepted = queue.acceptNextSession(next, now + LOCK_MS);

    expect(holder.lost).toEqual(['com.microsoft:session-lock-lost']);
    expect(renewed).toBeUndefined();
    expect(accepted?.owner).toBe(next);
    expect(next.received.map((entry) => [entry.body, entry.count])).toEqual([['slow', 1]]);
  });

  it('gives a waiting accept-next receiver the first session that gets a message', () => {
    const queue = sessionQueue();
    const waiting = owner();
    const accepted: string[] = [];
    queue.waitForSession(waiting, (session) => accepted.push(session.id));

    queue.send(message('first', 'w'));

    expect(accepted).toEqual(['w']);
    expect(waiting.received.map((entry) => entry.body)).toEqual(['first']);
  });

  it('keeps a session’s state after its receiver lets go, though the session has no messages', () => {
    const queue = sessionQueue();
    const holder = owner();
    const session = queue.acceptSession('empty', holder)!;
    queue.setSessionState('empty', Buffer.from('kept'));

    queue.releaseSession(session, holder);
    const lockedAgain = queue.acceptSession('empty', owner());

    expect(lockedAgain).toBe(session);
    expect(queue.sessionState('empty')?.state?.toString()).toBe('kept');
  });
});
