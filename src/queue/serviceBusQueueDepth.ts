import type { ServiceBusAdministrationClient } from '@azure/service-bus';
import { InfrastructureError, errorMessage } from '../jobs/errors';
import type { QueueDepth, QueueDepthReader } from '../jobs/ports/queueDepth';
import { defaultServiceBusCallTimeoutMs, withinBudget } from './withinBudget';

/** The queue's runtime properties from the administration API (the app's identity holds Data Owner on the queue). */
export class ServiceBusQueueDepth implements QueueDepthReader {
  constructor(
    private readonly admin: ServiceBusAdministrationClient,
    private readonly queueName: string,
    private readonly callTimeoutMs = defaultServiceBusCallTimeoutMs,
  ) {}

  async depth(): Promise<QueueDepth> {
    try {
      const properties = await withinBudget(this.callTimeoutMs, (options) =>
        this.admin.getQueueRuntimeProperties(this.queueName, options),
      );
      return {
        active: properties.activeMessageCount,
        scheduled: properties.scheduledMessageCount,
        deadLettered: properties.deadLetterMessageCount,
      };
    } catch (error) {
      throw new InfrastructureError(
        'QueueUnavailable',
        `Reading the depth of queue '${this.queueName}' failed: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }
}
