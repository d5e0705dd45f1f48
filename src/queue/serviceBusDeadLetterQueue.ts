import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { ConflictError, InfrastructureError, errorMessage } from '../jobs/errors';
import type {
  DeadLetterEntry,
  DeadLetterQueue,
  DeadLetterScan,
  LockedDeadLetter,
} from '../jobs/ports/deadLetterQueue';
import { Long } from './sdkLong';
import { jobPropertiesOf } from './serviceBusJobMessage';
import type { ServiceBusQueueOptions } from './serviceBusJobQueue';
import { UnansweredCallError, defaultServiceBusCallTimeoutMs, withinBudget } from './withinBudget';

// Messages per peek request.
const peekPageSize = 250;
// Messages per receive while looking for one sequence number.
const receiveBatchSize = 100;
// Locks held at most while looking for one message; the ones in front of it are all held until it is found, because
// an abandoned message goes straight back to the front of the sub-queue.
const maxHeldWhileSearching = 5_000;

/**
 * The dead-letter sub-queue on Service Bus (`<queue>/$DeadLetterQueue`). Taking one message by sequence number means
 * receiving in peek-lock until it comes, then abandoning the others: Service Bus can receive by sequence number only
 * deferred messages. Owns its client: operators' work does not share the connection jobs are sent on.
 */
export class ServiceBusDeadLetterQueue implements DeadLetterQueue {
  private readonly callTimeoutMs: number;

  constructor(
    private readonly client: ServiceBusClient,
    private readonly queueName: string,
    { callTimeoutMs = defaultServiceBusCallTimeoutMs }: ServiceBusQueueOptions = {},
  ) {
    this.callTimeoutMs = callTimeoutMs;
  }

  async peekDeadLetters(max: number, afterSequenceNumber?: string): Promise<DeadLetterScan> {
    const from = afterSequenceNumber === undefined ? Long.ONE : Long.fromString(afterSequenceNumber).add(1);
    return this.withPeeker(async (receiver) => {
      const entries: DeadLetterEntry[] = [];
      // One more than `max` is asked for: it says whether the sub-queue holds more.
      const pageSize = () => Math.min(peekPageSize, max + 1 - entries.length);
      for await (const page of peekPages(receiver, pageSize, this.callTimeoutMs, from)) {
        entries.push(...page.map(toEntry));
        if (entries.length > max) return { entries: entries.slice(0, max), truncated: true };
      }
      return { entries, truncated: false };
    });
  }

  async peekDeadLetter(sequenceNumber: string): Promise<DeadLetterEntry | undefined> {
    return this.withPeeker(async (receiver) => {
      const [found] = await this.call((options) =>
        receiver.peekMessages(1, { ...options, fromSequenceNumber: Long.fromString(sequenceNumber) }),
      );
      return found?.sequenceNumber?.toString() === sequenceNumber ? toEntry(found) : undefined;
    });
  }

  async lockDeadLetter(sequenceNumber: string): Promise<LockedDeadLetter | undefined> {
    const wanted = BigInt(sequenceNumber);
    const ahead = await this.countAhead(wanted);
    if (ahead === undefined) return undefined;
    if (ahead > maxHeldWhileSearching) {
      throw new ConflictError(
        `${ahead} dead-lettered messages are in front of ${sequenceNumber}; at most ${maxHeldWhileSearching} can be ` +
          'held aside at once. Replay or discard older ones first.',
      );
    }
    const receiver = this.client.createReceiver(this.queueName, {
      subQueueType: 'deadLetter',
      receiveMode: 'peekLock',
      skipParsingBodyAsJson: true,
    });
    const held: ServiceBusReceivedMessage[] = [];
    let target: ServiceBusReceivedMessage | undefined;
    try {
      // The sub-queue delivers in sequence order: a later message than the one wanted means it is locked elsewhere.
      // No more credit than messages known to be there: credit left on the link would take the messages released
      // below straight back, locked, out of everyone's reach until the locks run out.
      let expected = ahead + 1;
      let passed = false;
      while (!target && !passed && expected > 0) {
        const batch = await this.call((options) =>
          receiver.receiveMessages(Math.min(receiveBatchSize, expected), {
            ...options,
            maxWaitTimeInMs: 1_000,
          }),
        );
        if (batch.length === 0) break;
        expected -= batch.length;
        for (const message of batch) {
          const number = sequenceNumberOf(message);
          if (number === wanted) target = message;
          else held.push(message);
          if (number > wanted) passed = true;
        }
      }
    } catch (error) {
      await this.releaseAll(receiver, held);
      await this.closeQuietly(receiver);
      throw unavailable('receive', error);
    }
    await this.releaseAll(receiver, held);
    if (!target) {
      await this.closeQuietly(receiver);
      return undefined;
    }
    const locked = target;
    return {
      entry: toEntry(locked),
      remove: async () => {
        try {
          await this.call(() => receiver.completeMessage(locked));
        } catch (error) {
          throw unavailable('complete', error);
        } finally {
          await this.closeQuietly(receiver);
        }
      },
      release: async () => {
        await this.call(() => receiver.abandonMessage(locked)).catch(() => undefined);
        await this.closeQuietly(receiver);
      },
    };
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** How many messages are in front of `wanted`, or `undefined` when it is not in the sub-queue. */
  private async countAhead(wanted: bigint): Promise<number | undefined> {
    return this.withPeeker(async (receiver) => {
      let ahead = 0;
      for await (const page of peekPages(receiver, () => peekPageSize, this.callTimeoutMs)) {
        for (const message of page) {
          const number = sequenceNumberOf(message);
          if (number === wanted) return ahead;
          if (number > wanted) return undefined;
          ahead += 1;
        }
        if (ahead > maxHeldWhileSearching) return ahead;
      }
      return undefined;
    });
  }

  private async withPeeker<T>(read: (receiver: ServiceBusReceiver) => Promise<T>): Promise<T> {
    const receiver = this.client.createReceiver(this.queueName, {
      subQueueType: 'deadLetter',
      skipParsingBodyAsJson: true,
    });
    try {
      return await read(receiver);
    } catch (error) {
      throw unavailable('peek', error);
    } finally {
      await this.closeQuietly(receiver);
    }
  }

  private async releaseAll(receiver: ServiceBusReceiver, messages: readonly ServiceBusReceivedMessage[]) {
    // A release that fails leaves the lock to run out: the message comes back all the same.
    await Promise.all(
      messages.map((message) => this.call(() => receiver.abandonMessage(message)).catch(() => undefined)),
    );
  }

  /** Closing a link waits for the broker too; one that never answers must not hold the operator's call. */
  private async closeQuietly(receiver: ServiceBusReceiver): Promise<void> {
    await this.call(() => receiver.close()).catch(() => undefined);
  }

  private call<T>(call: (options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
    return withinBudget(this.callTimeoutMs, call);
  }
}

/** The sub-queue page by page from `start`, oldest first, each page as large as `pageSize()` says at the time. */
async function* peekPages(
  receiver: ServiceBusReceiver,
  pageSize: () => number,
  callTimeoutMs: number,
  start: Long = Long.ONE,
): AsyncGenerator<ServiceBusReceivedMessage[]> {
  // Explicit positions: without one, the SDK continues from the last peek of any receiver on the entity.
  let from = start;
  for (;;) {
    const page = await withinBudget(callTimeoutMs, (options) =>
      receiver.peekMessages(pageSize(), { ...options, fromSequenceNumber: from }),
    );
    const last = page[page.length - 1]?.sequenceNumber;
    if (!last) return;
    yield page;
    from = last.add(1);
  }
}

function sequenceNumberOf(message: ServiceBusReceivedMessage): bigint {
  return BigInt(message.sequenceNumber?.toString() ?? '0');
}

function toEntry(message: ServiceBusReceivedMessage): DeadLetterEntry {
  const { cycle, traceParent } = jobPropertiesOf(message.applicationProperties);
  return {
    sequenceNumber: message.sequenceNumber?.toString() ?? '0',
    messageId: message.messageId === undefined ? '' : String(message.messageId),
    cycle,
    body: message.body,
    reason: message.deadLetterReason ?? '',
    description: message.deadLetterErrorDescription ?? '',
    deliveryCount: message.deliveryCount ?? 0,
    deadLetteredAt: message.enqueuedTimeUtc,
    traceParent,
  };
}

function unavailable(operation: 'peek' | 'receive' | 'complete', error: unknown): InfrastructureError {
  if (error instanceof UnansweredCallError) {
    // A complete that was not answered may have been carried out: the message may already be gone.
    const outcome = operation === 'complete' ? '; the message may or may not have been removed' : '';
    return new InfrastructureError(
      'QueueUnavailable',
      `Service Bus did not answer the dead-letter ${operation} within ${error.budgetMs} ms${outcome}.`,
      { cause: error },
    );
  }
  return new InfrastructureError(
    'QueueUnavailable',
    `Service Bus dead-letter ${operation} failed: ${errorMessage(error)}`,
    { cause: error },
  );
}
