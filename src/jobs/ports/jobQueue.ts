import type { OutgoingJobMessage } from '../model/outgoingJobMessage';

export type TransportKind = 'in-memory' | 'service-bus';

/**
 * Where jobs go: Azure Service Bus in production, an in-memory queue in embedded mode. Adapters throw
 * `InfrastructureError('QueueUnavailable')` when the broker cannot take the messages.
 */
export interface JobQueue {
  readonly transport: TransportKind;
  readonly queueName: string;
  /** Sends the messages; throws if any of them may not have been sent. */
  send(messages: readonly OutgoingJobMessage[]): Promise<void>;
  /** Enqueues the message at `enqueueAt`: the backoff of a retry. */
  schedule(message: OutgoingJobMessage, enqueueAt: Date): Promise<void>;
  close(): Promise<void>;
}
