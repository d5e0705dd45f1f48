import type { Clock } from '../ports/clock';
import { systemClock } from '../ports/clock';
import { errorMessage } from '../errors';
import type { JobQueue } from '../ports/jobQueue';
import type { Logger } from '../support/logger';
import type { OutgoingJobMessage } from '../model/outgoingJobMessage';

export interface OutboxSenderOptions {
  queue: Pick<JobQueue, 'send'>;
  logger: Logger;
  clock?: Clock;
  /** Aborted when the app stops: messages still waiting are left to the reconciler (their records are durable). */
  shutdownSignal?: AbortSignal;
  /** Most messages waiting in memory; past it the oldest are left to the reconciler. */
  maxWaiting?: number;
}

const firstRetryMs = 250;
// A refusing broker answers a try at once; one that holds every byte is bounded by the queue's call budget anyway.
const maxRetryMs = 1_000;
// Messages one send carries: a submission's largest batch.
const maxPerSend = 100;
// Sends at once while catching up after an outage (thousands of jobs may be waiting).
const parallelSends = 4;

/**
 * Sends the messages of jobs already recorded (the record is the outbox entry, and the promise): at once while the
 * broker answers, and otherwise from memory, tried again with a growing pause (at most 1 s) until the broker takes
 * them, then several batches at once to catch up, so jobs accepted during an outage are on the queue within seconds
 * of its end. While messages wait, new ones join them
 * rather than hold a request on a broker known to be down. A message sent twice is harmless: it keeps its message id
 * (the broker's duplicate detection drops a copy) and the dispatcher's claim runs a job once. Should the process die,
 * the reconciler sends what is still Queued.
 */
export class OutboxSender {
  /** By message id, oldest first: a message handed over twice waits once. */
  private readonly waiting = new Map<string, OutgoingJobMessage>();
  private draining: Promise<void> | undefined;
  private readonly clock: Clock;
  private readonly maxWaiting: number;

  constructor(private readonly options: OutboxSenderOptions) {
    this.clock = options.clock ?? systemClock;
    this.maxWaiting = options.maxWaiting ?? 10_000;
  }

  /** Sends the messages, or keeps them to send once the broker answers: `'sent'` or `'waiting'`. Never throws. */
  async send(messages: readonly OutgoingJobMessage[]): Promise<'sent' | 'waiting'> {
    if (messages.length === 0) return 'sent';
    if (this.waiting.size === 0) {
      try {
        await this.options.queue.send(messages);
        return 'sent';
      } catch (error) {
        this.options.logger.warn(
          'Sending jobs failed; they are recorded and will be sent once the queue answers',
          {
            jobIds: messages.map(({ job }) => job.jobId),
            error: errorMessage(error),
          },
        );
      }
    }
    this.hold(messages);
    return 'waiting';
  }

  /** Messages recorded but not yet taken by the broker. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Resolves once no message waits (or the app stopped). */
  async whenSent(): Promise<void> {
    await this.draining;
  }

  private hold(messages: readonly OutgoingJobMessage[]): void {
    if (this.options.shutdownSignal?.aborted) return this.leave(messages.length);
    for (const message of messages) this.waiting.set(message.messageId, message);
    let dropped = 0;
    for (const messageId of this.waiting.keys()) {
      if (this.waiting.size <= this.maxWaiting) break;
      this.waiting.delete(messageId);
      dropped += 1;
    }
    if (dropped > 0) this.leave(dropped);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    const { queue, logger, shutdownSignal } = this.options;
    let pauseMs = firstRetryMs;
    let failures = 0;
    while (this.waiting.size > 0) {
      try {
        await this.clock.sleep(pauseMs, shutdownSignal);
      } catch {
        break;
      }
      // One batch to find out whether the broker answers again; once it does, several at once to catch up.
      const batches = chunks([...this.waiting.values()], maxPerSend, pauseMs === 0 ? parallelSends : 1);
      const results = await Promise.allSettled(batches.map((batch) => queue.send(batch)));
      results.forEach((result, index) => {
        if (result.status === 'rejected') return;
        const batch = batches[index] as OutgoingJobMessage[];
        // Only the messages sent: one handed over again meanwhile is the same message under the same id.
        for (const message of batch) this.waiting.delete(message.messageId);
        logger.info('Recorded jobs sent after the queue answered again', {
          jobIds: batch.map(({ job }) => job.jobId),
          waiting: this.waiting.size,
        });
      });
      const refusal = results.find((result) => result.status === 'rejected');
      if (!refusal) {
        pauseMs = 0;
        failures = 0;
        continue;
      }
      failures += 1;
      pauseMs = Math.min(Math.max(pauseMs * 2, firstRetryMs), maxRetryMs);
      // A line on the first failure and then every minute or so, not one per try.
      if (failures === 1 || failures % 60 === 0) {
        logger.warn('The queue still refuses recorded jobs; trying again', {
          waiting: this.waiting.size,
          tries: failures,
          error: errorMessage(refusal.reason),
        });
      }
    }
    if (this.waiting.size > 0) {
      this.leave(this.waiting.size);
      this.waiting.clear();
    }
  }

  private leave(count: number): void {
    this.options.logger.warn('Recorded jobs left unsent in this process; the reconciler sends them', {
      count,
    });
  }
}

/** Up to `count` consecutive slices of `size` items, from the start. */
function chunks<T>(items: readonly T[], size: number, count: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length && result.length < count; start += size)
    result.push(items.slice(start, start + size));
  return result;
}
