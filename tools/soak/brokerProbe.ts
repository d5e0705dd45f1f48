import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { ServiceBusClient } from '@azure/service-bus';
import { Long } from '../../src/queue/sdkLong';

/** A message as the broker holds it, reduced to what the checks need. */
export interface BrokerMessage {
  /** From the body; undefined when the body is not a job. */
  readonly jobId: string | undefined;
  readonly messageId: string;
  readonly sequenceNumber: string;
  /** `active` (possibly locked), `scheduled` or `deferred`. */
  readonly state: string;
  /** AMQP convention: failed deliveries so far. */
  readonly deliveryCount: number;
  readonly deadLetterReason: string | undefined;
}

export interface BrokerSnapshot {
  /** Everything still in the queue: active, locked, scheduled and deferred. */
  readonly queued: readonly BrokerMessage[];
  readonly deadLettered: readonly BrokerMessage[];
}

const pageSize = 250;

/**
 * Reads the queue and its dead-letter sub-queue straight from the emulator, not through the fault proxy or the app:
 * what the broker really holds, to compare with the job records. Peeks only, so it changes nothing.
 */
export class BrokerProbe {
  private readonly client: ServiceBusClient;

  constructor(
    connectionString: string,
    private readonly queueName: string,
  ) {
    this.client = new ServiceBusClient(connectionString, {
      retryOptions: { maxRetries: 2, retryDelayInMs: 200, timeoutInMs: 10_000 },
    });
  }

  async snapshot(): Promise<BrokerSnapshot> {
    const [queued, deadLettered] = await Promise.all([this.peekAll(false), this.peekAll(true)]);
    return { queued, deadLettered };
  }

  /** Nothing left to deliver: no active, locked or scheduled message. */
  async queueIsEmpty(): Promise<boolean> {
    return this.withReceiver(
      false,
      async (receiver) => (await receiver.peekMessages(1, { fromSequenceNumber: Long.ONE })).length === 0,
    );
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private peekAll(deadLetter: boolean): Promise<BrokerMessage[]> {
    return this.withReceiver(deadLetter, async (receiver) => {
      const messages: BrokerMessage[] = [];
      // Explicit positions: without one, the SDK goes on from the last peek of any receiver on the entity.
      let from = Long.ONE;
      for (;;) {
        const page = await receiver.peekMessages(pageSize, { fromSequenceNumber: from });
        const last = page[page.length - 1]?.sequenceNumber;
        if (!last) return messages;
        messages.push(...page.map(toBrokerMessage));
        from = last.add(1);
      }
    });
  }

  private async withReceiver<T>(deadLetter: boolean, read: (receiver: ServiceBusReceiver) => Promise<T>) {
    const receiver = this.client.createReceiver(this.queueName, {
      ...(deadLetter ? { subQueueType: 'deadLetter' as const } : {}),
      skipParsingBodyAsJson: true,
    });
    try {
      return await read(receiver);
    } finally {
      await receiver.close();
    }
  }
}

function toBrokerMessage(message: ServiceBusReceivedMessage): BrokerMessage {
  return {
    jobId: jobIdOf(message.body),
    messageId: String(message.messageId),
    sequenceNumber: message.sequenceNumber?.toString() ?? '',
    state: message.state,
    deliveryCount: message.deliveryCount ?? 0,
    deadLetterReason: message.deadLetterReason,
  };
}

function jobIdOf(body: unknown): string | undefined {
  try {
    const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
    const jobId = (JSON.parse(text) as { jobId?: unknown }).jobId;
    return typeof jobId === 'string' ? jobId.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** Messages by the jobId in their body. */
export function byJobId(messages: readonly BrokerMessage[]): Map<string, BrokerMessage[]> {
  const grouped = new Map<string, BrokerMessage[]>();
  for (const message of messages) {
    const key = message.jobId ?? `(not a job: ${message.messageId})`;
    const group = grouped.get(key);
    if (group) group.push(message);
    else grouped.set(key, [message]);
  }
  return grouped;
}
