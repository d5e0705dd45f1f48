import { randomUUID } from 'node:crypto';
import {
  SECTION,
  amqpMessage,
  amqpTypes,
  encodeHeader,
  encodeMapSection,
  encodeProperties,
  mapEntries,
  readSections,
  setMapEntry,
  type HeaderFields,
  type TypedValue,
} from './amqpCodec';
import { uuidBytes } from './lockToken';

/**
 * A message as the broker keeps it: the sections it rewrites on every delivery (header, message annotations)
 * decoded, the bare message kept as the sender encoded it.
 */
export interface StoredMessage {
  readonly header: HeaderFields;
  readonly annotations: TypedValue[];
  readonly properties: Buffer;
  readonly applicationProperties: Buffer | undefined;
  readonly bodyAndFooter: Buffer;
  readonly messageId: unknown;
  /** The session id (AMQP `group-id`), which a queue that requires sessions needs on every message. */
  readonly sessionId: string | undefined;
  readonly timeToLiveMs: number | undefined;
  readonly scheduledEnqueueTime: number | undefined;
}

const ANNOTATION = {
  sequenceNumber: 'x-opt-sequence-number',
  enqueuedTime: 'x-opt-enqueued-time',
  lockedUntil: 'x-opt-locked-until',
  scheduledEnqueueTime: 'x-opt-scheduled-enqueue-time',
  enqueueSequenceNumber: 'x-opt-enqueue-sequence-number',
  deadLetterSource: 'x-opt-deadletter-source',
  messageState: 'x-opt-message-state',
  lockToken: 'x-opt-lock-token',
} as const;

/**
 * Parses one encoded message. A message without a message id gets one, as the service assigns it: the SDK
 * keys lock renewal and settlement by message id and fails without it.
 */
export function parseStoredMessage(encoded: Buffer): StoredMessage {
  const sections = readSections(encoded);
  const find = (code: number) => sections.find((section) => section.code === code);
  const header = find(SECTION.header);
  const properties = find(SECTION.properties);
  const applicationProperties = find(SECTION.applicationProperties);
  const firstBody = sections.find((section) => section.code >= SECTION.data);
  if (!firstBody) {
    throw new Error('message has no body section');
  }
  const bodyAndFooter = encoded.subarray(firstBody.start);

  const decoded = amqpMessage.decode(
    Buffer.concat([header?.bytes ?? Buffer.alloc(0), properties?.bytes ?? Buffer.alloc(0)]),
  );
  let messageId: unknown = decoded.message_id;
  let propertiesBytes = properties?.bytes;
  if (messageId === undefined || messageId === null) {
    messageId = randomUUID().replace(/-/g, '');
    propertiesBytes = encodeProperties({
      ...propertyFields(decoded as unknown as Record<string, unknown>),
      message_id: messageId,
    });
  }

  const annotations = withoutBrokerAnnotations(mapEntries(find(SECTION.messageAnnotations)));
  const scheduled = annotationValue(annotations, ANNOTATION.scheduledEnqueueTime);
  return {
    header: {
      durable: decoded.durable as boolean | undefined,
      priority: decoded.priority as number | undefined,
      ttl: decoded.ttl as number | undefined,
      first_acquirer: decoded.first_acquirer as boolean | undefined,
      delivery_count: 0,
    },
    annotations,
    properties: propertiesBytes ?? Buffer.alloc(0),
    applicationProperties: applicationProperties?.bytes,
    bodyAndFooter,
    messageId,
    sessionId: typeof decoded.group_id === 'string' ? decoded.group_id : undefined,
    timeToLiveMs: typeof decoded.ttl === 'number' && decoded.ttl > 0 ? decoded.ttl : undefined,
    scheduledEnqueueTime:
      scheduled instanceof Date ? scheduled.getTime() : typeof scheduled === 'number' ? scheduled : undefined,
  };
}

const propertyNames = [
  'message_id',
  'user_id',
  'to',
  'subject',
  'reply_to',
  'correlation_id',
  'content_type',
  'content_encoding',
  'absolute_expiry_time',
  'creation_time',
  'group_id',
  'group_sequence',
  'reply_to_group_id',
];

function propertyFields(decoded: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const name of propertyNames) {
    if (decoded[name] !== undefined) fields[name] = decoded[name];
  }
  return fields;
}

const brokerOwned = new Set<unknown>([
  ANNOTATION.sequenceNumber,
  ANNOTATION.enqueuedTime,
  ANNOTATION.lockedUntil,
  ANNOTATION.enqueueSequenceNumber,
  ANNOTATION.deadLetterSource,
  ANNOTATION.messageState,
]);

/** A received message sent again (as an AMQP message) must not carry its old broker state along. */
function withoutBrokerAnnotations(entries: TypedValue[]): TypedValue[] {
  const kept: TypedValue[] = [];
  for (let i = 0; i + 1 < entries.length; i += 2) {
    const key = entries[i];
    const value = entries[i + 1];
    if (key && value && !brokerOwned.has(key.value)) kept.push(key, value);
  }
  return kept;
}

function annotationValue(entries: TypedValue[], key: string): unknown {
  for (let i = 0; i < entries.length; i += 2) {
    if (entries[i]?.value === key) return entries[i + 1]?.value;
  }
  return undefined;
}

/** Returns a copy whose application properties carry `changes` (the service's "properties to modify"). */
export function withApplicationProperties(
  message: StoredMessage,
  changes: Record<string, unknown>,
): StoredMessage {
  const defined = Object.entries(changes).filter(([, value]) => value !== undefined && value !== null);
  if (defined.length === 0) return message;
  const entries = message.applicationProperties
    ? mapEntries(readSections(message.applicationProperties)[0])
    : [];
  for (const [key, value] of defined) {
    setMapEntry(entries, amqpTypes.wrap(key), amqpTypes.wrap(value));
  }
  return { ...message, applicationProperties: encodeMapSection(SECTION.applicationProperties, entries) };
}

/** Broker annotations for one delivery; undefined values are left out. */
export interface DeliveryAnnotations {
  sequenceNumber: number;
  enqueuedTime: number;
  lockedUntil?: number;
  enqueueSequenceNumber?: number;
  deadLetterSource?: string;
  messageState?: number;
  /**
   * The lock of a message received by sequence number, carried in the delivery annotations
   * (`x-opt-lock-token`, a uuid), where the Python SDK reads it: such a message has no delivery tag.
   */
  lockToken?: string;
}

/** Encodes the message as it goes out: fresh header and broker annotations, the bare message untouched. */
export function encodeForDelivery(
  message: StoredMessage,
  deliveryCount: number,
  broker: DeliveryAnnotations,
): Buffer {
  const annotations = [...message.annotations];
  const set = (key: string, value: TypedValue) => setMapEntry(annotations, amqpTypes.wrap_symbol(key), value);
  set(ANNOTATION.sequenceNumber, amqpTypes.wrap_long(broker.sequenceNumber));
  set(ANNOTATION.enqueuedTime, amqpTypes.wrap_timestamp(broker.enqueuedTime));
  if (broker.lockedUntil !== undefined)
    set(ANNOTATION.lockedUntil, amqpTypes.wrap_timestamp(broker.lockedUntil));
  if (broker.enqueueSequenceNumber !== undefined) {
    set(ANNOTATION.enqueueSequenceNumber, amqpTypes.wrap_long(broker.enqueueSequenceNumber));
  }
  if (broker.deadLetterSource !== undefined) {
    set(ANNOTATION.deadLetterSource, amqpTypes.wrap(broker.deadLetterSource));
  }
  if (broker.messageState !== undefined)
    set(ANNOTATION.messageState, amqpTypes.wrap_int(broker.messageState));
  const parts = [encodeHeader({ ...message.header, delivery_count: deliveryCount })];
  if (broker.lockToken !== undefined) {
    parts.push(
      encodeMapSection(SECTION.deliveryAnnotations, [
        amqpTypes.wrap_symbol(ANNOTATION.lockToken),
        amqpTypes.wrap_uuid(uuidBytes(broker.lockToken)),
      ]),
    );
  }
  parts.push(encodeMapSection(SECTION.messageAnnotations, annotations), message.properties);
  if (message.applicationProperties) parts.push(message.applicationProperties);
  parts.push(message.bodyAndFooter);
  return Buffer.concat(parts);
}
