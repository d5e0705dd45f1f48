/** How many messages the job queue holds now, as the broker counts them. */
export interface QueueDepth {
  /** Ready for delivery or being processed (locked), as Service Bus's ActiveMessageCount counts them. */
  readonly active: number;
  /** Waiting for their enqueue time: retries in their backoff. */
  readonly scheduled: number;
  /** In the dead-letter sub-queue. */
  readonly deadLettered: number;
}

/**
 * Reads the queue's depth: Service Bus's queue runtime properties (the administration API), or the in-memory
 * queue's own counts. Adapters throw `InfrastructureError('QueueUnavailable')` when the broker does not answer.
 */
export interface QueueDepthReader {
  depth(): Promise<QueueDepth>;
}
