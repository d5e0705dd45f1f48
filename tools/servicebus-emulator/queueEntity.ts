import { ActiveMessages } from './activeMessages';
import { DuplicateDetector } from './duplicateDetector';
import type { QueueSettings } from './emulatorConfig';
import { newLockToken, type LockToken } from './lockToken';
import {
  MessageSession,
  SESSION_LOCK_LOST_CONDITION,
  SESSION_LOCK_LOST_DESCRIPTION,
  type SessionOwner,
} from './messageSession';
import { encodeForDelivery, withApplicationProperties, type StoredMessage } from './storedMessage';

export type ReceiveMode = 'peekLock' | 'receiveAndDelete';
type MessageState = 'active' | 'locked' | 'deferred' | 'scheduled' | 'removed';

/** The service's `x-opt-message-state` values. */
const MESSAGE_STATE = { active: 0, deferred: 1, scheduled: 2 } as const;

export interface MessageLock {
  readonly token: LockToken;
  lockedUntil: number;
  /** A deferred message received by sequence number goes back to the deferred set, not the queue. */
  readonly returnTo: 'active' | 'deferred';
}

interface QueueMessage {
  readonly sequenceNumber: number;
  content: StoredMessage;
  enqueuedTime: number;
  deliveryCount: number;
  expiresAt: number;
  scheduledAt: number;
  state: MessageState;
  lock: MessageLock | undefined;
  readonly deadLetterSource: string | undefined;
  readonly enqueueSequenceNumber: number | undefined;
  /** Its session, in a queue that requires sessions. */
  readonly session: MessageSession<QueueMessage> | undefined;
}

/** A receiver link as the queue sees it: how many messages it can take now, and where to put one. */
export interface QueueConsumer {
  readonly receiveMode: ReceiveMode;
  capacity(): number;
  deliver(encoded: Buffer, lock: MessageLock | undefined, sequenceNumber: number): void;
}

export type Settlement = { ok: true } | { ok: false; condition: string; description: string };

export interface DeadLetterInfo {
  reason?: string;
  description?: string;
  propertiesToModify?: Record<string, unknown>;
}

export interface QueueHooks {
  /** Asks for `sweep()` to run no later than `deadline`. */
  requestDeadline(deadline: number): void;
  /** Resolves ForwardTo / ForwardDeadLetteredMessagesTo targets. */
  findQueue(name: string): QueueEntity | undefined;
}

export const LOCK_LOST_CONDITION = 'com.microsoft:message-lock-lost';

export const LOCK_LOST: Settlement = {
  ok: false,
  condition: LOCK_LOST_CONDITION,
  description:
    'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.',
};

const MAX_FORWARD_HOPS = 4;

const isActive = (message: QueueMessage) => message.state === 'active';

/** An accept-next-session receiver waiting for a session with messages. */
interface SessionWaiter {
  owner: SessionOwner;
  accepted(session: MessageSession<QueueMessage>): void;
}

/**
 * One queue (or its dead-letter sub-queue) with Service Bus semantics: sequence numbers, peek-lock with
 * expiring locks, delivery counts, MaxDeliveryCount, deferral, scheduling, time-to-live and duplicate detection.
 * It knows nothing of AMQP links; consumers pull through `QueueConsumer`.
 */
export class QueueEntity {
  readonly deadLetterQueue: QueueEntity | undefined;
  private readonly all = new Map<number, QueueMessage>();
  private readonly active = new ActiveMessages<QueueMessage>(isActive);
  private readonly locks = new Map<string, QueueMessage>();
  private readonly scheduled = new Set<QueueMessage>();
  private readonly deferred = new Set<QueueMessage>();
  private readonly duplicates: DuplicateDetector | undefined;
  /** Present when the queue requires sessions (its dead-letter sub-queue does not). */
  private readonly sessions: Map<string, MessageSession<QueueMessage>> | undefined;
  private readonly lockedSessions = new Set<MessageSession<QueueMessage>>();
  private sessionWaiters: SessionWaiter[] = [];
  private consumers: QueueConsumer[] = [];
  private nextConsumer = 0;
  private lastSequenceNumber = 0;
  private pumping = false;
  private pumpAgain = false;

  constructor(
    readonly settings: QueueSettings,
    readonly path: string,
    private readonly hooks: QueueHooks,
    readonly isDeadLetterQueue = false,
  ) {
    this.deadLetterQueue = isDeadLetterQueue
      ? undefined
      : new QueueEntity(settings, `${path}/$DeadLetterQueue`, hooks, true);
    this.duplicates =
      settings.requiresDuplicateDetection && !isDeadLetterQueue
        ? new DuplicateDetector(settings.duplicateDetectionHistoryTimeWindowMs)
        : undefined;
    this.sessions = settings.requiresSession && !isDeadLetterQueue ? new Map() : undefined;
  }

  get requiresSession(): boolean {
    return this.sessions !== undefined;
  }

  /**
   * Accepts a sent message and returns its sequence number; a repeated message id inside the
   * duplicate-detection window is dropped (sequence number 0).
   */
  send(content: StoredMessage, now = Date.now(), hops = 0): number {
    const forwardTo = this.isDeadLetterQueue ? undefined : this.settings.forwardTo;
    const target = forwardTo ? this.hooks.findQueue(forwardTo) : undefined;
    // The service forwards along at most four hops; the limit also ends a forwarding cycle.
    if (target && target !== this && hops < MAX_FORWARD_HOPS) return target.send(content, now, hops + 1);
    if (this.duplicates?.isDuplicate(content.messageId, now)) return 0;
    const message = this.newMessage(content, now);
    if (this.sessions && !message.session) {
      // Senders are refused such a message; one forwarded here is dead-lettered, as the service does.
      this.moveToDeadLetter(
        message,
        {
          reason: 'Session id is null.',
          description: "Session enabled entity doesn't allow a message whose session identifier is null.",
        },
        now,
      );
      return message.sequenceNumber;
    }
    if (content.scheduledEnqueueTime !== undefined && content.scheduledEnqueueTime > now) {
      message.state = 'scheduled';
      message.scheduledAt = content.scheduledEnqueueTime;
      this.scheduled.add(message);
      this.hooks.requestDeadline(message.scheduledAt);
    } else {
      this.activate(message, now);
      this.pump();
    }
    return message.sequenceNumber;
  }

  cancelScheduled(sequenceNumber: number): void {
    const message = this.all.get(sequenceNumber);
    if (message?.state === 'scheduled') this.remove(message);
  }

  /** What the administration API reports of the queue now (its dead-letter sub-queue counts apart). */
  runtimeCounts(): { active: number; scheduled: number; total: number; sizeInBytes: number } {
    let active = 0;
    let scheduled = 0;
    let sizeInBytes = 0;
    for (const message of this.all.values()) {
      if (message.state === 'active' || message.state === 'locked') active++;
      else if (message.state === 'scheduled') scheduled++;
      const { properties, applicationProperties, bodyAndFooter } = message.content;
      sizeInBytes += properties.length + (applicationProperties?.length ?? 0) + bodyAndFooter.length;
    }
    return { active, scheduled, total: this.all.size, sizeInBytes };
  }

  addConsumer(consumer: QueueConsumer): void {
    this.consumers.push(consumer);
    this.pump();
  }

  removeConsumer(consumer: QueueConsumer): void {
    this.consumers = this.consumers.filter((candidate) => candidate !== consumer);
  }

  /**
   * Locks a session for `owner`, whether or not it has messages yet; undefined while another receiver holds
   * its lock.
   */
  acceptSession(
    sessionId: string,
    owner: SessionOwner,
    now = Date.now(),
  ): MessageSession<QueueMessage> | undefined {
    const sessions = this.sessions;
    if (!sessions) return undefined;
    let session = sessions.get(sessionId);
    if (session?.owner) {
      if (session.lockedUntil > now) return undefined;
      this.loseSession(session, now);
      // Losing the lock may have left the session idle, and so forgotten.
      session = sessions.get(sessionId);
    }
    if (!session) {
      session = new MessageSession(sessionId, isActive);
      sessions.set(sessionId, session);
    }
    this.lockSession(session, owner, now);
    this.pump();
    return session;
  }

  /** Locks the unlocked session whose first waiting message is oldest, if there is one. */
  acceptNextSession(owner: SessionOwner, now = Date.now()): MessageSession<QueueMessage> | undefined {
    const session = this.availableSession();
    if (session) {
      this.lockSession(session, owner, now);
      this.pump();
    }
    return session;
  }

  /** Calls `accepted` with the next session that becomes available; returns a function that stops waiting. */
  waitForSession(owner: SessionOwner, accepted: SessionWaiter['accepted']): () => void {
    const waiter = { owner, accepted };
    this.sessionWaiters.push(waiter);
    return () => {
      this.sessionWaiters = this.sessionWaiters.filter((candidate) => candidate !== waiter);
    };
  }

  /**
   * Ends `owner`'s lock on the session (its link closed): messages it holds come back, counted as deliveries, as
   * when a lock expires.
   */
  releaseSession(session: MessageSession<QueueMessage>, owner: SessionOwner, now = Date.now()): void {
    if (session.owner !== owner) return;
    this.unlockSession(session, now);
    this.pump();
  }

  /** Extends a session's lock by the queue's LockDuration; undefined when the lock is no longer held. */
  renewSessionLock(sessionId: string, now = Date.now()): number | undefined {
    const session = this.lockedSession(sessionId, now);
    if (!session) return undefined;
    session.lockedUntil = now + this.settings.lockDurationMs;
    this.hooks.requestDeadline(session.lockedUntil);
    return session.lockedUntil;
  }

  /** A locked session's state (undefined when none was set); undefined when the lock is not held. */
  sessionState(sessionId: string, now = Date.now()): { state: Buffer | undefined } | undefined {
    const session = this.lockedSession(sessionId, now);
    return session && { state: session.state };
  }

  /** Sets (or, with undefined, clears) a locked session's state; false when the lock is not held. */
  setSessionState(sessionId: string, state: Buffer | undefined, now = Date.now()): boolean {
    const session = this.lockedSession(sessionId, now);
    if (session) session.state = state;
    return session !== undefined;
  }

  isSessionLocked(sessionId: string, now = Date.now()): boolean {
    return this.lockedSession(sessionId, now) !== undefined;
  }

  /** Hands active messages to consumers with capacity, round robin. Safe to call at any time. */
  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.pumpOnce(Date.now());
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  complete(lockTokenId: string, now = Date.now()): Settlement {
    const message = this.lockedMessage(lockTokenId, now);
    if (!message) return LOCK_LOST;
    this.remove(message);
    return { ok: true };
  }

  /** A failed delivery: the message goes back with its delivery count one higher (not in a dead-letter queue). */
  abandon(lockTokenId: string, propertiesToModify?: Record<string, unknown>, now = Date.now()): Settlement {
    const message = this.lockedMessage(lockTokenId, now);
    if (!message) return LOCK_LOST;
    if (propertiesToModify) message.content = withApplicationProperties(message.content, propertiesToModify);
    this.releaseLock(message, now, true);
    this.pump();
    return { ok: true };
  }

  /**
   * AMQP's `released` outcome (§3.4.4): the message was not processed, so it goes back without counting
   * a delivery, unlike abandon.
   */
  release(lockTokenId: string, now = Date.now()): Settlement {
    const message = this.lockedMessage(lockTokenId, now);
    if (!message) return LOCK_LOST;
    this.releaseLock(message, now, false);
    this.pump();
    return { ok: true };
  }

  defer(lockTokenId: string, propertiesToModify?: Record<string, unknown>, now = Date.now()): Settlement {
    const message = this.lockedMessage(lockTokenId, now);
    if (!message) return LOCK_LOST;
    if (propertiesToModify) message.content = withApplicationProperties(message.content, propertiesToModify);
    this.unlock(message);
    message.state = 'deferred';
    this.deferred.add(message);
    return { ok: true };
  }

  deadLetter(lockTokenId: string, info: DeadLetterInfo, now = Date.now()): Settlement {
    const message = this.lockedMessage(lockTokenId, now);
    if (!message) return LOCK_LOST;
    if (this.isDeadLetterQueue) {
      return {
        ok: false,
        condition: 'amqp:not-allowed',
        description: 'A message in a dead-letter sub-queue cannot be dead-lettered again.',
      };
    }
    this.moveToDeadLetter(message, info, now);
    return { ok: true };
  }

  /** Extends a lock by the queue's LockDuration; undefined when the lock is no longer held. */
  renewLock(lockTokenId: string, now = Date.now()): number | undefined {
    const message = this.lockedMessage(lockTokenId, now);
    if (!message?.lock) return undefined;
    message.lock.lockedUntil = now + this.settings.lockDurationMs;
    this.hooks.requestDeadline(message.lock.lockedUntil);
    return message.lock.lockedUntil;
  }

  /**
   * Encoded messages from `fromSequenceNumber` on, in any state but removed, without locking them; only those
   * of one session when `sessionId` is given.
   */
  peek(fromSequenceNumber: number, count: number, sessionId?: string): Buffer[] {
    const found: Buffer[] = [];
    for (const message of this.all.values()) {
      if (found.length >= count) break;
      if (message.sequenceNumber < fromSequenceNumber) continue;
      if (sessionId !== undefined && message.session?.id !== sessionId) continue;
      const state = message.state === 'deferred' || message.state === 'scheduled' ? message.state : 'active';
      found.push(this.encode(message, message.lock?.lockedUntil, MESSAGE_STATE[state]));
    }
    return found;
  }

  /**
   * Receives deferred messages by sequence number; fails as a whole when one is not deferred, or, in a queue
   * that requires sessions, not in the session `sessionId` (whose lock the caller holds).
   */
  receiveDeferred(
    sequenceNumbers: number[],
    mode: ReceiveMode,
    now = Date.now(),
    sessionId?: string,
  ): { encoded: Buffer; lock: MessageLock | undefined }[] | undefined {
    const messages = sequenceNumbers.map((sequenceNumber) => this.all.get(sequenceNumber));
    const wrongSession = (message: QueueMessage) =>
      this.sessions !== undefined && message.session?.id !== sessionId;
    if (messages.some((message) => message?.state !== 'deferred' || wrongSession(message))) return undefined;
    return (messages as QueueMessage[]).map((message) => {
      this.deferred.delete(message);
      // The service counts each fetch of a deferred message as a delivery: the first fetch after a
      // peek-lock receive and defer shows 1. Settling it (abandon, lock expiry) does not count again.
      message.deliveryCount++;
      if (mode === 'receiveAndDelete') {
        this.remove(message);
        return { encoded: this.encode(message, undefined, MESSAGE_STATE.deferred), lock: undefined };
      }
      const lock = this.lock(message, now, 'deferred');
      return {
        encoded: this.encode(message, lock.lockedUntil, MESSAGE_STATE.deferred, lock.token.id),
        lock,
      };
    });
  }

  /** Applies every deadline that has passed; returns the next one, if any. */
  sweep(now: number): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const session of [...this.lockedSessions]) {
      if (session.lockedUntil <= now) this.loseSession(session, now);
      else next = Math.min(next, session.lockedUntil);
    }
    const expiredLocks: QueueMessage[] = [];
    for (const message of this.locks.values()) {
      const lockedUntil = message.lock?.lockedUntil ?? 0;
      if (lockedUntil <= now) expiredLocks.push(message);
      else next = Math.min(next, lockedUntil);
    }
    for (const message of expiredLocks) this.releaseLock(message, now, true);
    for (const message of [...this.scheduled]) {
      if (message.scheduledAt <= now) {
        this.scheduled.delete(message);
        this.activate(message, now);
      } else {
        next = Math.min(next, message.scheduledAt);
      }
    }
    if (!this.isDeadLetterQueue) {
      const waitingLists: Iterable<QueueMessage>[] = [this.active, [...this.deferred]];
      for (const session of this.sessions?.values() ?? []) waitingLists.push(session.active);
      for (const waiting of waitingLists) {
        for (const message of waiting) {
          if (message.expiresAt <= now) this.expire(message, now);
          else next = Math.min(next, message.expiresAt);
        }
      }
    }
    this.pump();
    const dlqNext = this.deadLetterQueue?.sweep(now);
    if (dlqNext !== undefined) next = Math.min(next, dlqNext);
    return Number.isFinite(next) ? next : undefined;
  }

  private pumpOnce(now: number): void {
    if (this.sessions) {
      this.pumpSessions(now);
      return;
    }
    let idle = 0;
    while (this.consumers.length > 0 && idle < this.consumers.length) {
      const consumer = this.consumers[this.nextConsumer++ % this.consumers.length];
      if (!consumer || consumer.capacity() <= 0) {
        idle++;
        continue;
      }
      const message = this.takeActive(now);
      if (!message) return;
      idle = 0;
      this.deliverTo(consumer, message, now);
    }
  }

  /** Sessions first go to receivers waiting for one; then each locked session's owner takes its messages in order. */
  private pumpSessions(now: number): void {
    while (this.sessionWaiters.length > 0) {
      const session = this.availableSession();
      const waiter = session && this.sessionWaiters.shift();
      if (!session || !waiter) break;
      this.lockSession(session, waiter.owner, now);
      waiter.accepted(session);
    }
    for (const session of this.lockedSessions) {
      const owner = session.owner;
      while (owner && owner.capacity() > 0) {
        const message = this.takeActive(now, session.active);
        if (!message) break;
        this.deliverTo(owner, message, now);
      }
    }
  }

  private deliverTo(consumer: QueueConsumer, message: QueueMessage, now: number): void {
    if (consumer.receiveMode === 'receiveAndDelete') {
      this.remove(message);
      consumer.deliver(this.encode(message, undefined), undefined, message.sequenceNumber);
    } else {
      const lock = this.lock(message, now, 'active');
      consumer.deliver(this.encode(message, lock.lockedUntil), lock, message.sequenceNumber);
    }
  }

  private takeActive(now: number, from = this.active): QueueMessage | undefined {
    for (let message = from.shift(); message; message = from.shift()) {
      if (message.expiresAt > now) return message;
      this.expire(message, now);
    }
    return undefined;
  }

  private insertActive(message: QueueMessage): void {
    message.state = 'active';
    (message.session?.active ?? this.active).insert(message);
  }

  /** The unlocked session whose first waiting message is oldest. */
  private availableSession(): MessageSession<QueueMessage> | undefined {
    let found: MessageSession<QueueMessage> | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const session of this.sessions?.values() ?? []) {
      if (session.owner) continue;
      const first = session.firstActive();
      if (first && first.sequenceNumber < oldest) {
        found = session;
        oldest = first.sequenceNumber;
      }
    }
    return found;
  }

  private lockSession(session: MessageSession<QueueMessage>, owner: SessionOwner, now: number): void {
    session.owner = owner;
    session.lockedUntil = now + this.settings.lockDurationMs;
    this.lockedSessions.add(session);
    this.hooks.requestDeadline(session.lockedUntil);
  }

  /** The session, when its lock is held and has not expired. */
  private lockedSession(sessionId: string, now: number): MessageSession<QueueMessage> | undefined {
    const session = this.sessions?.get(sessionId);
    if (!session?.owner) return undefined;
    if (session.lockedUntil <= now) {
      this.loseSession(session, now);
      return undefined;
    }
    return session;
  }

  /** The session lock expired: its receiver is detached, as the service does, and its messages come back. */
  private loseSession(session: MessageSession<QueueMessage>, now: number): void {
    const owner = session.owner;
    this.unlockSession(session, now);
    owner?.loseSession(SESSION_LOCK_LOST_CONDITION, SESSION_LOCK_LOST_DESCRIPTION);
    this.pump();
  }

  private unlockSession(session: MessageSession<QueueMessage>, now: number): void {
    session.owner = undefined;
    this.lockedSessions.delete(session);
    for (const message of [...session.locked]) this.releaseLock(message, now, true);
    this.forgetIfIdle(session);
  }

  private sessionOf(content: StoredMessage): MessageSession<QueueMessage> | undefined {
    const sessions = this.sessions;
    if (!sessions || content.sessionId === undefined) return undefined;
    let session = sessions.get(content.sessionId);
    if (!session) {
      session = new MessageSession(content.sessionId, isActive);
      sessions.set(content.sessionId, session);
    }
    session.messageCount++;
    return session;
  }

  private forgetIfIdle(session: MessageSession<QueueMessage>): void {
    if (session.isIdle) this.sessions?.delete(session.id);
  }

  private newMessage(
    content: StoredMessage,
    now: number,
    origin?: { source: string; sequenceNumber: number; deliveryCount: number },
  ): QueueMessage {
    const message: QueueMessage = {
      sequenceNumber: ++this.lastSequenceNumber,
      content,
      enqueuedTime: now,
      deliveryCount: origin?.deliveryCount ?? 0,
      expiresAt: Number.POSITIVE_INFINITY,
      scheduledAt: 0,
      state: 'active',
      lock: undefined,
      deadLetterSource: origin?.source,
      enqueueSequenceNumber: origin?.sequenceNumber,
      session: this.sessionOf(content),
    };
    this.all.set(message.sequenceNumber, message);
    return message;
  }

  private activate(message: QueueMessage, now: number): void {
    message.enqueuedTime = now;
    if (!this.isDeadLetterQueue) {
      const ttl = Math.min(
        message.content.timeToLiveMs ?? Infinity,
        this.settings.defaultMessageTimeToLiveMs,
      );
      message.expiresAt = now + ttl;
      this.hooks.requestDeadline(message.expiresAt);
    }
    this.insertActive(message);
  }

  private lock(message: QueueMessage, now: number, returnTo: MessageLock['returnTo']): MessageLock {
    const session = message.session;
    const lock: MessageLock = session
      ? // A message in a session is locked by the session's lock: it expires, and is renewed, with it.
        {
          token: newLockToken(),
          get lockedUntil() {
            return session.lockedUntil;
          },
          set lockedUntil(until: number) {
            session.lockedUntil = until;
          },
          returnTo,
        }
      : { token: newLockToken(), lockedUntil: now + this.settings.lockDurationMs, returnTo };
    session?.locked.add(message);
    message.lock = lock;
    message.state = 'locked';
    this.locks.set(lock.token.id, message);
    this.hooks.requestDeadline(lock.lockedUntil);
    return lock;
  }

  private unlock(message: QueueMessage): void {
    if (message.lock) this.locks.delete(message.lock.token.id);
    message.session?.locked.delete(message);
    message.lock = undefined;
  }

  /** The lock's message, or undefined when the lock has expired or was never held. */
  private lockedMessage(lockTokenId: string, now: number): QueueMessage | undefined {
    const message = this.locks.get(lockTokenId);
    if (!message?.lock) return undefined;
    if (message.lock.lockedUntil <= now) {
      if (message.session) {
        this.loseSession(message.session, now);
        return undefined;
      }
      this.releaseLock(message, now, true);
      this.pump();
      return undefined;
    }
    return message;
  }

  /**
   * Abandon, release and lock expiry: back in line (or to the deferred set), after counting a failed
   * delivery when `failedDelivery`; MaxDeliveryCount then moves the message to the dead-letter queue.
   */
  private releaseLock(message: QueueMessage, now: number, failedDelivery: boolean): void {
    const returnTo = message.lock?.returnTo ?? 'active';
    this.unlock(message);
    // A deferred message's fetch already counted its delivery; the service counts none in a dead-letter sub-queue
    // (abandon or lock expiry alike), so that a dead-lettered message keeps the count it died with.
    if (failedDelivery && returnTo === 'active' && !this.isDeadLetterQueue) message.deliveryCount++;
    if (returnTo === 'deferred') {
      message.state = 'deferred';
      this.deferred.add(message);
    } else if (!this.isDeadLetterQueue && message.deliveryCount >= this.settings.maxDeliveryCount) {
      this.moveToDeadLetter(
        message,
        {
          reason: 'MaxDeliveryCountExceeded',
          description: `Message could not be consumed after ${this.settings.maxDeliveryCount} delivery attempts.`,
        },
        now,
      );
    } else if (message.expiresAt <= now) {
      this.expire(message, now);
    } else {
      this.insertActive(message);
    }
  }

  private expire(message: QueueMessage, now: number): void {
    if (this.settings.deadLetteringOnMessageExpiration) {
      this.moveToDeadLetter(
        message,
        { reason: 'TTLExpiredException', description: 'The message expired and was dead lettered.' },
        now,
      );
    } else {
      this.remove(message);
    }
  }

  private moveToDeadLetter(message: QueueMessage, info: DeadLetterInfo, now: number): void {
    this.remove(message);
    const content = withApplicationProperties(message.content, {
      ...info.propertiesToModify,
      DeadLetterReason: info.reason,
      DeadLetterErrorDescription: info.description,
    });
    const forwardTo = this.settings.forwardDeadLetteredMessagesTo;
    const target = forwardTo ? this.hooks.findQueue(forwardTo) : undefined;
    if (target) {
      target.send(content, now);
      return;
    }
    this.deadLetterQueue?.receiveDeadLettered(content, now, {
      source: this.settings.name,
      sequenceNumber: message.sequenceNumber,
      deliveryCount: message.deliveryCount,
    });
  }

  private receiveDeadLettered(
    content: StoredMessage,
    now: number,
    origin: { source: string; sequenceNumber: number; deliveryCount: number },
  ): void {
    this.activate(this.newMessage(content, now, origin), now);
    this.pump();
  }

  private remove(message: QueueMessage): void {
    this.unlock(message);
    this.all.delete(message.sequenceNumber);
    this.scheduled.delete(message);
    this.deferred.delete(message);
    const session = message.session;
    if (session && message.state !== 'removed') {
      session.messageCount--;
      this.forgetIfIdle(session);
    }
    message.state = 'removed';
  }

  private encode(
    message: QueueMessage,
    lockedUntil: number | undefined,
    messageState?: number,
    lockToken?: string,
  ): Buffer {
    return encodeForDelivery(message.content, message.deliveryCount, {
      lockToken,
      sequenceNumber: message.sequenceNumber,
      enqueuedTime: message.enqueuedTime,
      lockedUntil,
      enqueueSequenceNumber: message.enqueueSequenceNumber,
      deadLetterSource: message.deadLetterSource,
      messageState,
    });
  }
}
