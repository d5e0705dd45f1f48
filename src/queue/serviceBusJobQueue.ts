import type { ServiceBusClient, ServiceBusMessageBatch, ServiceBusSender } from '@azure/service-bus';
import { InfrastructureError, PayloadTooLargeError, errorMessage } from '../jobs/errors';
import type { JobQueue } from '../jobs/ports/jobQueue';
import type { OutgoingJobMessage } from '../jobs/model/outgoingJobMessage';
import { UnansweredCallError, defaultServiceBusCallTimeoutMs, withinBudget } from './withinBudget';
import { toServiceBusMessage } from './serviceBusJobMessage';

export interface ServiceBusQueueOptions {
  /**
   * How long one Service Bus call may take, the SDK's retries included, before it fails with `QueueUnavailable`.
   * Default {@link defaultServiceBusCallTimeoutMs}, the table store's budget: a broker that accepts connections
   * but never answers would otherwise hold the caller for the SDK's retries (3 × 60 s by default).
   */
  readonly callTimeoutMs?: number;
}

/** Production transport: one sender for the queue, created once and reused for every send and schedule. */
export class ServiceBusJobQueue implements JobQueue {
  readonly transport = 'service-bus' as const;
  private readonly sender: ServiceBusSender;
  private readonly callTimeoutMs: number;

  constructor(
    private readonly client: ServiceBusClient,
    readonly queueName: string,
    { callTimeoutMs = defaultServiceBusCallTimeoutMs }: ServiceBusQueueOptions = {},
  ) {
    this.sender = client.createSender(queueName);
    this.callTimeoutMs = callTimeoutMs;
  }

  async send(messages: readonly OutgoingJobMessage[]): Promise<void> {
    const single = messages.length === 1 ? messages[0] : undefined;
    try {
      if (single)
        await this.call((options) => this.sender.sendMessages(toServiceBusMessage(single), options));
      else if (messages.length > 1) await this.sendInBatches(messages);
    } catch (error) {
      throw toQueueError(error, 'send');
    }
  }

  async schedule(message: OutgoingJobMessage, enqueueAt: Date): Promise<void> {
    try {
      await this.call((options) =>
        this.sender.scheduleMessages(toServiceBusMessage(message), enqueueAt, options),
      );
    } catch (error) {
      throw toQueueError(error, 'schedule');
    }
  }

  async close(): Promise<void> {
    // Closing a sender just after its connection dropped can wait on the replaced connection for minutes (SDK 7.9,
    // `test/integration/serviceBusCallBudget.test.ts`); closing the client ends the sender's link all the same.
    await this.call(() => this.sender.close()).catch(() => undefined);
    await this.client.close();
  }

  private async sendInBatches(messages: readonly OutgoingJobMessage[]): Promise<void> {
    const newBatch = () => this.call((options) => this.sender.createMessageBatch(options));
    const sendBatch = (batch: ServiceBusMessageBatch) =>
      this.call((options) => this.sender.sendMessages(batch, options));
    let batch = await newBatch();
    for (const message of messages) {
      const sbMessage = toServiceBusMessage(message);
      if (batch.tryAddMessage(sbMessage)) continue;
      if (batch.count === 0) throw tooLarge(message, batch.maxSizeInBytes);
      await sendBatch(batch);
      batch = await newBatch();
      if (!batch.tryAddMessage(sbMessage)) throw tooLarge(message, batch.maxSizeInBytes);
    }
    if (batch.count > 0) await sendBatch(batch);
  }

  /** One SDK call within the budget; a send of many batches gives each of its calls the whole budget. */
  private call<T>(call: (options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
    return withinBudget(this.callTimeoutMs, call);
  }
}

function tooLarge(message: OutgoingJobMessage, limitBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `Job ${message.job.jobId} does not fit in one Service Bus message.`,
    limitBytes,
  );
}

function toQueueError(error: unknown, operation: 'send' | 'schedule'): Error {
  if (error instanceof PayloadTooLargeError) return error;
  if (error instanceof UnansweredCallError) {
    // No answer is not a no: the broker may have taken the message. Sending it again is safe all the same, since
    // it keeps its message id and the broker drops a second copy as a duplicate.
    const done = operation === 'send' ? 'sent' : 'scheduled';
    return new InfrastructureError(
      'QueueUnavailable',
      `Service Bus did not answer the ${operation} within ${error.budgetMs} ms; ` +
        `the message may or may not have been ${done}.`,
      { cause: error },
    );
  }
  return new InfrastructureError(
    'QueueUnavailable',
    `Service Bus ${operation} failed: ${errorMessage(error)}`,
    {
      cause: error,
    },
  );
}
