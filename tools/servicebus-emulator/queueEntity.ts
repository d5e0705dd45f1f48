import { ActiveMessages } from './activeMessages';
import { DuplicateDetector } from './duplicateDetector';
import type { QueueSettings } from './emulatorConfig';
import { newLockToken, type LockToken } from './lockToken';
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

/**
 * One queue (or its dead-letter sub-queue) with Service Bus semantics: sequence numbers, peek-lock with
 * expiring locks, delivery counts, MaxDeliveryCount, deferral, scheduling, time-to-live and duplicate detection.
 * It knows nothing of AMQP links; consumers pull through `QueueConsumer`.
 */
export class QueueEntity {
  readonly deadLetterQueue: QueueEntity | undefined;
  private readonly all = new Map<number, QueueMessage>();
  private readonly active = new ActiveMessages<QueueMessage>((message) => message.state === 'active');
  private readonly locks = new Map<string, QueueMessage>();
  private readonly scheduled = new Set<QueueMessage>();
  private readonly deferred = new Set<QueueMessage>();
  private readonly duplicates: DuplicateDetector | undefined;
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

  /** Encoded messages from `fromSequenceNumber` on, in any state but removed, without locking them. */
  peek(fromSequenceNumber: number, count: number): Buffer[] {
    const found: Buffer[] = [];
    for (const message of this.all.values()) {
      if (found.length >= count) break;
      if (message.sequenceNumber < fromSequenceNumber) continue;
      const state = message.state === 'deferred' || message.state === 'scheduled' ? message.state : 'active';
      found.push(this.encode(message, message.lock?.lockedUntil, MESSAGE_STATE[state]));
    }
    return found;
  }

  /** Receives deferred messages by sequence number; fails as a whole when one is not deferred. */
  receiveDeferred(
    sequenceNumbers: number[],
    mode: ReceiveMode,
    now = Date.now(),
  ): { encoded: Buffer; lock: MessageLock | undefined }[] | undefined {
    const messages = sequenceNumbers.map((sequenceNumber) => this.all.get(sequenceNumber));
    if (messages.some((message) => message?.state !== 'deferred')) return undefined;
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
      for (const waiting of [this.active, [...this.deferred]]) {
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
      if (consumer.receiveMode === 'receiveAndDelete') {
        this.remove(message);
        consumer.deliver(this.encode(message, undefined), undefined, message.sequenceNumber);
      } else {
        const lock = this.lock(message, now, 'active');
        consumer.deliver(this.encode(message, lock.lockedUntil), lock, message.sequenceNumber);
      }
    }
  }

  private takeActive(now: number): QueueMessage | undefined {
    for (let message = this.active.shift(); message; message = this.active.shift()) {
      if (message.expiresAt > now) return message;
      this.expire(message, now);
    }
    return undefined;
  }

  private insertActive(message: QueueMessage): void {
    message.state = 'active';
    this.active.insert(message);
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
    const lock: MessageLock = {
      token: newLockToken(),
      lockedUntil: now + this.settings.lockDurationMs,
      returnTo,
    };
    message.lock = lock;
    message.state = 'locked';
    this.locks.set(lock.token.id, message);
    this.hooks.requestDeadline(lock.lockedUntil);
    return lock;
  }

  private unlock(message: QueueMessage): void {
    if (message.lock) this.locks.delete(message.lock.token.id);
    message.lock = undefined;
  }

  /** The lock's message, or undefined when the lock has expired or was never held. */
  private lockedMessage(lockTokenId: string, now: number): QueueMessage | undefined {
    const message = this.locks.get(lockTokenId);
    if (!message?.lock) return undefined;
    if (message.lock.lockedUntil <= now) {
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
