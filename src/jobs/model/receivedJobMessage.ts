/** A message as the dispatcher sees it, whatever delivered it. Adapters normalise to this shape. */
export interface ReceivedJobMessage {
  /** As delivered: a parsed JSON value, JSON text, or bytes. */
  readonly body: unknown;
  readonly messageId?: string;
  /**
   * 1 on the first delivery (the .NET / Functions host convention). The AMQP header and the JS SDK count from 0;
   * adapters add one.
   */
  readonly deliveryCount: number;
  readonly enqueuedTime?: Date;
  /**
   * The version (ETag) of the job record its sender wrote, when the sender is our submission: the first delivery
   * can then claim the job without reading its record first.
   */
  readonly recordEtag?: string;
  /** The attempt cycle the sender meant the message for (see `JobRecord.cycle`); absent means 1. */
  readonly cycle?: number;
  /** The sender's W3C `traceparent` (`Diagnostic-Id` on Service Bus): processing continues that trace. */
  readonly traceParent?: string;
}
