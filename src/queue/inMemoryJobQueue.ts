import type { DeadLetterReason } from '../jobs/model/deadLetterReason';
import { JobsError } from '../jobs/errors';
import type { ReceivedJobMessage } from '../jobs/model/receivedJobMessage';
import type { MessageSettler } from '../jobs/dispatch/settlement';
import type {
  DeadLetterEntry,
  DeadLetterQueue,
  DeadLetterScan,
  LockedDeadLetter,
} from '../jobs/ports/deadLetterQueue';
import type { JobQueue } from '../jobs/ports/jobQueue';
import type { QueueDepth, QueueDepthReader } from '../jobs/ports/queueDepth';
import { MinHeap } from './minHeap';
import type { OutgoingJobMessage } from '../jobs/model/outgoingJobMessage';

export interface InMemoryJobQueueOptions {
  queueName: string;
  lockDurationMs: number;
  maxDeliveryCount: number;
  maxConcurrency: number;
  /** Locks of messages still being processed are renewed up to this long, as the Functions host does. */
  maxAutoLockRenewalMs?: number;
  /**
   * A message whose id was sent or scheduled within this window is dropped, as Service Bus duplicate detection does
   * on the production queue (10 minutes there, `infra/`): the dispatcher relies on it for repeated sends.
   */
  duplicateDetectionWindowMs?: number;
}

interface StoredMessage {
  readonly sequenceNumber: number;
  readonly messageId: string;
  /** JSON text, as on the wire: nothing is shared with the sender's objects. */
  readonly body: string;
  readonly recordEtag: string | undefined;
  readonly cycle: number;
  readonly traceParent: string | undefined;
  readonly enqueuedTime: Date;
  /** Failed deliveries so far (the AMQP header's convention: 0 before the first delivery). */
  deliveryCount: number;
}

export interface DeadLetteredMessage {
  readonly sequenceNumber: number;
  readonly messageId: string;
  readonly cycle: number;
  readonly body: string;
  readonly deliveryCount: number;
  readonly reason: DeadLetterReason | 'MaxDeliveryCountExceeded';
  readonly description: string;
  readonly deadLetteredAt: Date;
  readonly traceParent?: string;
}

/** One locked message handed to the processor, settled exactly once while its lock holds. */
export interface InMemoryDelivery extends MessageSettler {
  readonly message: ReceivedJobMessage;
}

export type InMemoryMessageProcessor = (delivery: InMemoryDelivery) => Promise<void>;

interface Lock {
  readonly stored: StoredMessage;
  readonly lockedAt: number;
  lockedUntil: number;
  processing: boolean;
}

/**
 * The development transport, with the semantics the dispatcher sees on Service Bus: peek-lock with a lock duration,
 * delivery count raised by abandon and by lock expiry, scheduled enqueue, a dead-letter sub-queue with reason and
 * description, MaxDeliveryCount auto-dead-lettering, bounded concurrency. Everything is lost when the process ends.
 */
export class InMemoryJobQueue implements JobQueue, DeadLetterQueue, QueueDepthReader {
  readonly transport = 'in-memory' as const;
  readonly queueName: string;
  private readonly options: Required<InMemoryJobQueueOptions>;
  private active: StoredMessage[] = [];
  private activeHead = 0;
  private readonly scheduled = new MinHeap<{ at: number; stored: StoredMessage }>((entry) => entry.at);
  private readonly locks = new Map<number, Lock>();
  private readonly deadLettered: DeadLetteredMessage[] = [];
  /** Sequence numbers of dead-lettered messages an operator holds (`lockDeadLetter`). */
  private readonly deadLetterLocks = new Set<number>();
  /** Message ids seen within the duplicate detection window, with when each leaves it (oldest first). */
  private readonly recentMessageIds = new Map<string, number>();
  private nextSequenceNumber = 1;
  private processor: InMemoryMessageProcessor | undefined;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private scheduleTimer: NodeJS.Timeout | undefined;
  private scheduleTimerAt = Infinity;
  private lockSweepTimer: NodeJS.Timeout | undefined;

  constructor(options: InMemoryJobQueueOptions) {
    this.queueName = options.queueName;
    this.options = { maxAutoLockRenewalMs: 300_000, duplicateDetectionWindowMs: 600_000, ...options };
  }

  async send(messages: readonly OutgoingJobMessage[]): Promise<void> {
    for (const message of messages) if (this.isFirstSend(message)) this.active.push(this.store(message));
    this.pump();
  }

  async schedule(message: OutgoingJobMessage, enqueueAt: Date): Promise<void> {
    if (!this.isFirstSend(message)) return;
    this.scheduled.push({ at: enqueueAt.getTime(), stored: this.store(message) });
    this.armScheduleTimer();
  }

  /** Starts delivering messages to `processor`, at most `maxConcurrency` at a time. */
  startProcessing(processor: InMemoryMessageProcessor): void {
    this.processor = processor;
    this.lockSweepTimer ??= setInterval(
      () => this.sweepLocks(),
      Math.min(1_000, this.options.lockDurationMs / 2),
    );
    this.lockSweepTimer.unref();
    this.pump();
  }

  /** Messages being processed now. */
  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Stops taking messages and resolves when in-flight ones are settled, or `false` when `timeoutMs` passes first. */
  async stopProcessing(timeoutMs: number): Promise<boolean> {
    this.processor = undefined;
    if (this.inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([idle, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.processor = undefined;
    clearTimeout(this.scheduleTimer);
    clearInterval(this.lockSweepTimer);
    this.lockSweepTimer = undefined;
  }

  /** The dead-letter sub-queue, oldest first. */
  deadLetteredMessages(): readonly DeadLetteredMessage[] {
    return this.deadLettered;
  }

  async peekDeadLetters(max: number, afterSequenceNumber?: string): Promise<DeadLetterScan> {
    const after = Number(afterSequenceNumber ?? 0);
    const ahead = this.deadLettered.filter((message) => message.sequenceNumber > after);
    return { entries: ahead.slice(0, max).map(toDeadLetterEntry), truncated: ahead.length > max };
  }

  async peekDeadLetter(sequenceNumber: string): Promise<DeadLetterEntry | undefined> {
    const found = this.findDeadLettered(sequenceNumber);
    return found && toDeadLetterEntry(found);
  }

  async lockDeadLetter(sequenceNumber: string): Promise<LockedDeadLetter | undefined> {
    const found = this.findDeadLettered(sequenceNumber);
    if (!found || this.deadLetterLocks.has(found.sequenceNumber)) return undefined;
    this.deadLetterLocks.add(found.sequenceNumber);
    let held = true;
    const unlock = (): boolean => {
      const wasHeld = held;
      held = false;
      this.deadLetterLocks.delete(found.sequenceNumber);
      return wasHeld;
    };
    return {
      entry: toDeadLetterEntry(found),
      remove: async () => {
        if (!unlock())
          throw new JobsError('MessageLockLost', `Dead-lettered message ${sequenceNumber} is released.`);
        this.deadLettered.splice(this.deadLettered.indexOf(found), 1);
      },
      release: async () => {
        unlock();
      },
    };
  }

  /** Messages waiting (available or scheduled) or locked. */
  /** Counted as Service Bus counts them: a message being processed (locked) is active. */
  async depth(): Promise<QueueDepth> {
    const { active, scheduled, locked, deadLettered } = this.messageCount();
    return { active: active + locked, scheduled, deadLettered };
  }

  messageCount(): { active: number; scheduled: number; locked: number; deadLettered: number } {
    return {
      active: this.active.length - this.activeHead,
      scheduled: this.scheduled.size,
      locked: this.locks.size,
      deadLettered: this.deadLettered.length,
    };
  }

  private findDeadLettered(sequenceNumber: string): DeadLetteredMessage | undefined {
    return this.deadLettered.find((message) => String(message.sequenceNumber) === sequenceNumber);
  }

  /** Duplicate detection: `false` for an id already sent within the window (the message is then dropped). */
  private isFirstSend({ messageId }: OutgoingJobMessage): boolean {
    const now = Date.now();
    // Every id stays the same time, so the oldest entries are the first to leave the window.
    for (const [id, until] of this.recentMessageIds) {
      if (until > now) break;
      this.recentMessageIds.delete(id);
    }
    if (this.recentMessageIds.has(messageId)) return false;
    this.recentMessageIds.set(messageId, now + this.options.duplicateDetectionWindowMs);
    return true;
  }

  private store(message: OutgoingJobMessage): StoredMessage {
    return {
      sequenceNumber: this.nextSequenceNumber++,
      messageId: message.messageId,
      body: message.body,
      recordEtag: message.recordEtag,
      cycle: message.cycle,
      traceParent: message.traceParent,
      enqueuedTime: new Date(),
      deliveryCount: 0,
    };
  }

  private pump(): void {
    while (
      this.processor &&
      this.inFlight < this.options.maxConcurrency &&
      this.activeHead < this.active.length
    ) {
      const stored = this.active[this.activeHead] as StoredMessage;
      this.activeHead += 1;
      this.deliver(stored, this.processor);
    }
    if (this.activeHead > 1_024 && this.activeHead * 2 > this.active.length) {
      this.active = this.active.slice(this.activeHead);
      this.activeHead = 0;
    }
  }

  private deliver(stored: StoredMessage, processor: InMemoryMessageProcessor): void {
    const now = Date.now();
    const lockToken = stored.sequenceNumber;
    const lock: Lock = {
      stored,
      lockedAt: now,
      lockedUntil: now + this.options.lockDurationMs,
      processing: true,
    };
    this.locks.set(lockToken, lock);
    this.inFlight += 1;

    let settled = false;
    const settleWith = (action: () => void) => async (): Promise<void> => {
      if (settled) throw new JobsError('MessageLockLost', `Message ${stored.messageId} is already settled.`);
      if (this.locks.get(lockToken) !== lock) {
        throw new JobsError(
          'MessageLockLost',
          `The lock on message ${stored.messageId} expired; it was redelivered.`,
        );
      }
      settled = true;
      this.locks.delete(lockToken);
      action();
    };
    const delivery: InMemoryDelivery = {
      message: {
        body: stored.body,
        messageId: stored.messageId,
        deliveryCount: stored.deliveryCount + 1,
        enqueuedTime: stored.enqueuedTime,
        recordEtag: stored.recordEtag,
        cycle: stored.cycle,
        traceParent: stored.traceParent,
      },
      complete: settleWith(() => undefined),
      abandon: settleWith(() => this.redeliverOrDeadLetter(stored)),
      deadLetter: (reason, description) => settleWith(() => this.deadLetter(stored, reason, description))(),
    };

    processor(delivery)
      .catch(() => undefined)
      .then(async () => {
        lock.processing = false;
        // A processor that neither settled nor lost its lock leaves the message to the broker, as Service Bus does.
        if (!settled && this.locks.get(lockToken) === lock)
          await delivery.abandon('The processor did not settle the message.');
      })
      .finally(() => {
        this.inFlight -= 1;
        if (this.inFlight === 0) this.notifyIdle();
        this.pump();
      });
  }

  private redeliverOrDeadLetter(stored: StoredMessage): void {
    stored.deliveryCount += 1;
    if (stored.deliveryCount >= this.options.maxDeliveryCount) {
      this.deadLetter(
        stored,
        'MaxDeliveryCountExceeded',
        `Message could not be consumed after ${stored.deliveryCount} delivery attempts.`,
      );
      return;
    }
    this.active.push(stored);
    this.pump();
  }

  private deadLetter(
    stored: StoredMessage,
    reason: DeadLetteredMessage['reason'],
    description: string,
  ): void {
    this.deadLettered.push({
      sequenceNumber: stored.sequenceNumber,
      messageId: stored.messageId,
      cycle: stored.cycle,
      body: stored.body,
      deliveryCount: stored.deliveryCount,
      reason,
      description,
      deadLetteredAt: new Date(),
      traceParent: stored.traceParent,
    });
  }

  private sweepLocks(): void {
    const now = Date.now();
    for (const [lockToken, lock] of this.locks) {
      if (lock.lockedUntil > now) continue;
      if (lock.processing && now - lock.lockedAt < this.options.maxAutoLockRenewalMs) {
        lock.lockedUntil = now + this.options.lockDurationMs;
        continue;
      }
      this.locks.delete(lockToken);
      this.redeliverOrDeadLetter(lock.stored);
    }
  }

  private armScheduleTimer(): void {
    const next = this.scheduled.peek();
    if (!next || next.at >= this.scheduleTimerAt) return;
    clearTimeout(this.scheduleTimer);
    this.scheduleTimerAt = next.at;
    this.scheduleTimer = setTimeout(() => this.releaseDueMessages(), Math.max(0, next.at - Date.now()));
  }

  private releaseDueMessages(): void {
    this.scheduleTimerAt = Infinity;
    const now = Date.now();
    for (let next = this.scheduled.peek(); next && next.at <= now; next = this.scheduled.peek()) {
      this.scheduled.pop();
      // Scheduled messages count as enqueued when they become available, as on Service Bus.
      this.active.push({ ...next.stored, enqueuedTime: new Date(now) });
    }
    this.armScheduleTimer();
    this.pump();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function toDeadLetterEntry(message: DeadLetteredMessage): DeadLetterEntry {
  return {
    sequenceNumber: String(message.sequenceNumber),
    messageId: message.messageId,
    cycle: message.cycle,
    body: message.body,
    reason: message.reason,
    description: message.description,
    deliveryCount: message.deliveryCount,
    deadLetteredAt: message.deadLetteredAt,
    traceParent: message.traceParent,
  };
}
