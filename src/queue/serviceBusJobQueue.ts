import type {
  ServiceBusClient,
  ServiceBusMessage,
  ServiceBusMessageBatch,
  ServiceBusSender,
} from '@azure/service-bus';
import { InfrastructureError, PayloadTooLargeError, errorMessage } from '../jobs/errors';
import type { JobQueue } from './jobQueue';
import type { OutgoingJobMessage } from './outgoingJobMessage';
import { diagnosticIdProperty, recordEtagProperty } from './outgoingJobMessage';

/**
 * A job as the platform's C# producer puts it on the queue (ADR-004): UTF-8 JSON body, `Subject` = jobType,
 * `CorrelationId` = idempotency key, and the JobType / Attempt / CreatedAt application properties.
 */
export function toServiceBusMessage({
  messageId,
  job,
  body,
  recordEtag,
  traceParent,
}: OutgoingJobMessage): ServiceBusMessage {
  const applicationProperties: Record<string, string | number> = {
    JobType: job.jobType,
    Attempt: job.attempt,
    CreatedAt: job.createdAt,
  };
  // Set only when present (no spread of a throwaway object per message): an absent property is not sent at all.
  if (recordEtag) applicationProperties[recordEtagProperty] = recordEtag;
  if (traceParent) applicationProperties[diagnosticIdProperty] = traceParent;
  return {
    messageId,
    body: Buffer.from(body, 'utf8'),
    contentType: 'application/json',
    correlationId: job.idempotencyKey || undefined,
    subject: job.jobType,
    applicationProperties,
  };
}

/** Production transport: one sender for the queue, created once and reused for every send and schedule. */
export class ServiceBusJobQueue implements JobQueue {
  readonly transport = 'service-bus' as const;
  private readonly sender: ServiceBusSender;

  constructor(
    private readonly client: ServiceBusClient,
    readonly queueName: string,
  ) {
    this.sender = client.createSender(queueName);
  }

  async send(messages: readonly OutgoingJobMessage[]): Promise<void> {
    const single = messages.length === 1 ? messages[0] : undefined;
    try {
      if (single) await this.sender.sendMessages(toServiceBusMessage(single));
      else if (messages.length > 1) await this.sendInBatches(messages);
    } catch (error) {
      throw toQueueError(error, 'send');
    }
  }

  async schedule(message: OutgoingJobMessage, enqueueAt: Date): Promise<void> {
    try {
      await this.sender.scheduleMessages(toServiceBusMessage(message), enqueueAt);
    } catch (error) {
      throw toQueueError(error, 'schedule');
    }
  }

  async close(): Promise<void> {
    await this.sender.close();
    await this.client.close();
  }

  private async sendInBatches(messages: readonly OutgoingJobMessage[]): Promise<void> {
    let batch: ServiceBusMessageBatch = await this.sender.createMessageBatch();
    for (const message of messages) {
      const sbMessage = toServiceBusMessage(message);
      if (batch.tryAddMessage(sbMessage)) continue;
      if (batch.count === 0) throw tooLarge(message, batch.maxSizeInBytes);
      await this.sender.sendMessages(batch);
      batch = await this.sender.createMessageBatch();
      if (!batch.tryAddMessage(sbMessage)) throw tooLarge(message, batch.maxSizeInBytes);
    }
    if (batch.count > 0) await this.sender.sendMessages(batch);
  }
}

function tooLarge(message: OutgoingJobMessage, limitBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `Job ${message.job.jobId} does not fit in one Service Bus message.`,
    limitBytes,
  );
}

function toQueueError(error: unknown, operation: string): Error {
  if (error instanceof PayloadTooLargeError) return error;
  return new InfrastructureError(
    'QueueUnavailable',
    `Service Bus ${operation} failed: ${errorMessage(error)}`,
    {
      cause: error,
    },
  );
}
