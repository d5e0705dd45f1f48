import type { Delivery, EventContext, Receiver } from 'rhea';
import { SECTION, amqpMessage, rawBytesOf, readSections } from './amqpCodec';
import { log } from './log';
import type { QueueEntity } from './queueEntity';
import { parseStoredMessage } from './storedMessage';

/** The service's message size limit (Standard tier), also the largest batch. */
export const MAX_MESSAGE_SIZE = 256 * 1024;
/** Message format of the SDK's batches: each data section of the outer message is one encoded message. */
const BATCH_MESSAGE_FORMAT = 0x80013700;
/** The service's refusal of a message without a session id, sent to a queue that requires sessions. */
export const SESSION_ID_REQUIRED =
  'The SessionId was not set on a message, and it cannot be sent to the entity. Entities that have session support enabled can only receive messages that have the SessionId set to a valid value.';

/** Accepts messages a client sends to a queue: single transfers and batches. */
export function acceptIncomingMessages(receiver: Receiver, queue: QueueEntity): void {
  receiver.on('message', (context: EventContext) => {
    const delivery = context.delivery;
    if (!delivery) return;
    try {
      enqueue(context, delivery, queue);
    } catch (error) {
      log(`rejecting an undecodable message on ${queue.path}:`, error);
      delivery.reject({
        condition: 'amqp:decode-error',
        description: `The message could not be decoded: ${(error as Error).message}`,
      });
    }
  });
}

function enqueue(context: EventContext, delivery: Delivery, queue: QueueEntity): void {
  const format = (context as EventContext & { format?: number }).format ?? 0;
  const raw = format === 0 ? bytesOf(context.message) : (context.message as unknown as Buffer);
  if (raw.length > MAX_MESSAGE_SIZE) {
    delivery.reject({
      condition: 'amqp:link:message-size-exceeded',
      description: `The received message (delivery-id:${delivery.id}, size:${raw.length} bytes) exceeds the limit (${MAX_MESSAGE_SIZE} bytes) currently allowed on the link.`,
    });
    return;
  }
  if (format !== 0 && format !== BATCH_MESSAGE_FORMAT) {
    delivery.reject({
      condition: 'amqp:not-implemented',
      description: `Message format ${format} is not supported.`,
    });
    return;
  }
  const encodedMessages = format === BATCH_MESSAGE_FORMAT ? batchItems(raw) : [raw];
  // Parse the whole batch before enqueuing any of it: a batch is accepted or refused as a unit.
  const messages = encodedMessages.map(parseStoredMessage);
  if (queue.requiresSession && messages.some((message) => message.sessionId === undefined)) {
    delivery.reject({ condition: 'amqp:not-allowed', description: SESSION_ID_REQUIRED });
    return;
  }
  for (const message of messages) queue.send(message);
  delivery.accept();
}

function bytesOf(message: EventContext['message']): Buffer {
  if (!message) throw new Error('empty transfer');
  return rawBytesOf(message) ?? amqpMessage.encode(message);
}

function batchItems(outer: Buffer): Buffer[] {
  return readSections(outer)
    .filter((section) => section.code === SECTION.data)
    .map((section) => section.value.value as Buffer);
}
