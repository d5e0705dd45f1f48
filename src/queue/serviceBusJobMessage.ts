import type { ServiceBusMessage } from '@azure/service-bus';
import type * as RheaPromise from 'rhea-promise';
import type { ReceivedJobMessage } from '../jobs/model/receivedJobMessage';
import type { OutgoingJobMessage } from '../jobs/model/outgoingJobMessage';

/**
 * The job message on Service Bus, both ways, in one place: what a send puts on it and what every reader (the
 * trigger, the SDK-type binding, the dead-letter reader) takes from it, so a field's default cannot differ between
 * the producer and its consumers. The body is the ADR-004 contract (`parseJobMessage` reads it, in the C# producer's
 * shape or as a JSON string inside a JSON string, as the JavaScript SDK sends `body: JSON.stringify(job)`); beside it
 * travel the application properties below.
 */

/** The job's attempt cycle (see `JobRecord.cycle`), when it is not 1. */
export const attemptCycleProperty = 'JobAttemptCycle';
/** The ETag of the record submission created (see `ReceivedJobMessage.recordEtag`). */
export const recordEtagProperty = 'JobRecordETag';
/** The W3C trace context (traceparent form) that Service Bus tracing uses. */
export const diagnosticIdProperty = 'Diagnostic-Id';

/**
 * The AMQP encoder under the SDK, from its own dependency. It encodes a positive JavaScript number as `uint`, which
 * .NET reads as a boxed `uint`: a C# consumer's `(int)message.ApplicationProperties["Attempt"]` would throw. The
 * C# producer sends `int`, and so do we. A plain `require`, so that the bundled package holds it; it must resolve to
 * the SDK's own copy (test/unit/queue/serviceBusSdkDependencies.test.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const amqpTypes = (require('rhea-promise') as typeof RheaPromise).types;
const amqpInt = (value: number) => amqpTypes.wrap_int(value) as unknown as number;

/**
 * A job as the platform's C# producer puts it on the queue (ADR-004): UTF-8 JSON body, `Subject` = jobType,
 * `CorrelationId` = idempotency key, and the JobType / Attempt / CreatedAt application properties.
 */
export function toServiceBusMessage({
  messageId,
  job,
  cycle,
  body,
  recordEtag,
  traceParent,
}: OutgoingJobMessage): ServiceBusMessage {
  const applicationProperties: Record<string, string | number> = {
    JobType: job.jobType,
    Attempt: amqpInt(job.attempt),
    CreatedAt: job.createdAt,
  };
  // Set only when present (no spread of a throwaway object per message): an absent property is not sent at all.
  if (cycle !== 1) applicationProperties[attemptCycleProperty] = amqpInt(cycle);
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

/** What a received message's application properties say of its job. */
export interface JobMessageProperties {
  /** 1 when absent, or when it is not a whole number from 1 up. */
  readonly cycle: number;
  readonly recordEtag: string | undefined;
  readonly traceParent: string | undefined;
}

export function jobPropertiesOf(applicationProperties: unknown): JobMessageProperties {
  const cycle = Number(applicationProperty(applicationProperties, attemptCycleProperty) ?? 1);
  return {
    cycle: Number.isInteger(cycle) && cycle >= 1 ? cycle : 1,
    recordEtag: applicationProperty(applicationProperties, recordEtagProperty),
    traceParent: applicationProperty(applicationProperties, diagnosticIdProperty),
  };
}

/** A received message as the SDK-type binding and the JavaScript SDK hand it over (`ServiceBusReceivedMessage`). */
export interface SdkReceivedMessage {
  body: unknown;
  messageId?: string | number | unknown;
  /** The JavaScript SDK counts from 0 (the AMQP header). */
  deliveryCount?: number;
  enqueuedTimeUtc?: Date;
  applicationProperties?: Record<string, unknown>;
}

/** The GA trigger's body and metadata; the host's metadata already counts deliveries from 1 (.NET convention). */
export function fromHostTrigger(body: unknown, metadata: Record<string, unknown>): ReceivedJobMessage {
  return {
    body,
    messageId: optionalString(metadata.messageId),
    deliveryCount: positiveOr(Number(metadata.deliveryCount), 1),
    enqueuedTime: optionalDate(metadata.enqueuedTimeUtc),
    ...jobPropertiesOf(metadata.applicationProperties),
  };
}

export function fromSdkMessage(message: SdkReceivedMessage): ReceivedJobMessage {
  return {
    body: message.body,
    messageId: optionalString(message.messageId),
    deliveryCount: positiveOr((message.deliveryCount ?? 0) + 1, 1),
    enqueuedTime: optionalDate(message.enqueuedTimeUtc),
    ...jobPropertiesOf(message.applicationProperties),
  };
}

function applicationProperty(properties: unknown, name: string): string | undefined {
  if (typeof properties !== 'object' || properties === null) return undefined;
  return optionalString((properties as Record<string, unknown>)[name]);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function optionalDate(value: unknown): Date | undefined {
  if (!(value instanceof Date) && typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function positiveOr(value: number, fallback: number): number {
  return Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}
