import type { Message } from 'rhea';
import { amqpTypes } from './amqpCodec';
import { SESSION_ID_REQUIRED } from './incomingLink';
import { lockTokenId, uuidBytes } from './lockToken';
import { SESSION_LOCK_LOST_CONDITION, SESSION_LOCK_LOST_DESCRIPTION } from './messageSession';
import { LOCK_LOST, LOCK_LOST_CONDITION, type QueueEntity, type Settlement } from './queueEntity';
import { parseStoredMessage } from './storedMessage';

const OPERATION = {
  renewLock: 'com.microsoft:renew-lock',
  updateDisposition: 'com.microsoft:update-disposition',
  scheduleMessage: 'com.microsoft:schedule-message',
  cancelScheduledMessage: 'com.microsoft:cancel-scheduled-message',
  peekMessage: 'com.microsoft:peek-message',
  receiveBySequenceNumber: 'com.microsoft:receive-by-sequence-number',
  renewSessionLock: 'com.microsoft:renew-session-lock',
  getSessionState: 'com.microsoft:get-session-state',
  setSessionState: 'com.microsoft:set-session-state',
} as const;

const SESSION_LOCK_LOST: ManagementResponse = {
  statusCode: 410,
  errorCondition: SESSION_LOCK_LOST_CONDITION,
  statusDescription: SESSION_LOCK_LOST_DESCRIPTION,
};

const TYPE_LONG = 0x81;
const TYPE_TIMESTAMP = 0x83;

interface ManagementResponse {
  statusCode: number;
  statusDescription?: string;
  errorCondition?: string;
  body?: Record<string, unknown>;
}

type RequestBody = Record<string, unknown>;

/**
 * The `<entity>/$management` node: answers one request with the status, error condition and body the
 * service would, for the operations the SDK's receivers and senders use.
 */
export function answerManagementRequest(queue: QueueEntity, request: Message): Message {
  const operation = String(request.application_properties?.operation ?? '');
  let response: ManagementResponse;
  try {
    response = perform(queue, operation, (request.body ?? {}) as RequestBody);
  } catch (error) {
    response = {
      statusCode: 400,
      errorCondition: 'amqp:invalid-field',
      statusDescription: `Malformed ${operation} request: ${(error as Error).message}`,
    };
  }
  // An AMQP int, as the service sends it: rhea would encode a positive number as uint, which uamqp refuses.
  const applicationProperties: Record<string, unknown> = {
    statusCode: amqpTypes.wrap_int(response.statusCode),
    statusDescription: response.statusDescription ?? (response.statusCode < 300 ? 'OK' : 'Error'),
  };
  if (response.errorCondition) applicationProperties.errorCondition = response.errorCondition;
  const reply: Record<string, unknown> = {
    correlation_id: request.message_id,
    application_properties: applicationProperties,
  };
  if (response.body) reply.body = response.body;
  return reply as unknown as Message;
}

function perform(queue: QueueEntity, operation: string, body: RequestBody): ManagementResponse {
  switch (operation) {
    case OPERATION.renewLock:
      return renewLock(queue, body);
    case OPERATION.updateDisposition:
      return updateDisposition(queue, body);
    case OPERATION.scheduleMessage:
      return scheduleMessages(queue, body);
    case OPERATION.cancelScheduledMessage:
      for (const sequenceNumber of sequenceNumbers(body['sequence-numbers']))
        queue.cancelScheduled(sequenceNumber);
      return { statusCode: 200 };
    case OPERATION.peekMessage:
      return peekMessages(queue, body);
    case OPERATION.receiveBySequenceNumber:
      return receiveDeferred(queue, body);
    case OPERATION.renewSessionLock: {
      const lockedUntil = queue.renewSessionLock(sessionId(body));
      if (lockedUntil === undefined) return SESSION_LOCK_LOST;
      return { statusCode: 200, body: { expiration: amqpTypes.wrap_timestamp(lockedUntil) } };
    }
    case OPERATION.getSessionState: {
      const found = queue.sessionState(sessionId(body));
      if (!found) return SESSION_LOCK_LOST;
      return { statusCode: 200, body: { 'session-state': found.state ?? null } };
    }
    case OPERATION.setSessionState:
      return queue.setSessionState(sessionId(body), sessionState(body['session-state']))
        ? { statusCode: 200 }
        : SESSION_LOCK_LOST;
    default:
      return {
        statusCode: 501,
        errorCondition: 'amqp:not-implemented',
        statusDescription: `The emulator does not implement the management operation '${operation}' (rules, batch delete and session listing are not emulated).`,
      };
  }
}

function renewLock(queue: QueueEntity, body: RequestBody): ManagementResponse {
  const expirations: number[] = [];
  for (const token of lockTokens(body['lock-tokens'])) {
    const lockedUntil = queue.renewLock(token);
    if (lockedUntil === undefined) return failure(LOCK_LOST);
    expirations.push(lockedUntil);
  }
  return {
    statusCode: 200,
    body: { expirations: amqpTypes.wrap_array(expirations, TYPE_TIMESTAMP, undefined) },
  };
}

function updateDisposition(queue: QueueEntity, body: RequestBody): ManagementResponse {
  const status = String(body['disposition-status']);
  const propertiesToModify = body['properties-to-modify'] as Record<string, unknown> | undefined;
  for (const token of lockTokens(body['lock-tokens'])) {
    let result: Settlement;
    switch (status) {
      case 'completed':
        result = queue.complete(token);
        break;
      case 'abandoned':
        result = queue.abandon(token, propertiesToModify);
        break;
      case 'defered':
        result = queue.defer(token, propertiesToModify);
        break;
      case 'suspended':
        result = queue.deadLetter(token, {
          reason: optionalString(body['deadletter-reason']),
          description: optionalString(body['deadletter-description']),
          propertiesToModify,
        });
        break;
      default:
        return {
          statusCode: 400,
          errorCondition: 'amqp:invalid-field',
          statusDescription: `Unknown status ${status}`,
        };
    }
    if (!result.ok) return failure(result);
  }
  return { statusCode: 200 };
}

function scheduleMessages(queue: QueueEntity, body: RequestBody): ManagementResponse {
  const entries = (body.messages ?? []) as { message?: Buffer }[];
  const parsed = entries.map((entry) => {
    if (!Buffer.isBuffer(entry.message)) throw new Error('each scheduled entry needs a binary message');
    return parseStoredMessage(entry.message);
  });
  if (queue.requiresSession && parsed.some((message) => message.sessionId === undefined)) {
    return { statusCode: 400, errorCondition: 'amqp:not-allowed', statusDescription: SESSION_ID_REQUIRED };
  }
  const numbers = parsed.map((message) => queue.send(message));
  return {
    statusCode: 200,
    body: { 'sequence-numbers': amqpTypes.wrap_array(numbers, TYPE_LONG, undefined) },
  };
}

function peekMessages(queue: QueueEntity, body: RequestBody): ManagementResponse {
  const from = toNumber(body['from-sequence-number'] ?? 1);
  const count = toNumber(body['message-count'] ?? 1);
  const messages = queue.peek(from, count, optionalString(body['session-id']));
  if (messages.length === 0) return { statusCode: 204, statusDescription: 'No messages' };
  return { statusCode: 200, body: { messages: messages.map((message) => ({ message })) } };
}

function receiveDeferred(queue: QueueEntity, body: RequestBody): ManagementResponse {
  const mode = toNumber(body['receiver-settle-mode'] ?? 1) === 0 ? 'receiveAndDelete' : 'peekLock';
  // In a queue that requires sessions, a deferred message is received by the receiver holding its session.
  const session = optionalString(body['session-id']);
  if (queue.requiresSession && (session === undefined || !queue.isSessionLocked(session))) {
    return SESSION_LOCK_LOST;
  }
  const received = queue.receiveDeferred(
    sequenceNumbers(body['sequence-numbers']),
    mode,
    Date.now(),
    session,
  );
  if (!received) {
    return {
      statusCode: 410,
      errorCondition: 'com.microsoft:message-not-found',
      statusDescription:
        'Failed to lock one or more specified messages. The messages are not deferred or do not exist.',
    };
  }
  return {
    statusCode: 200,
    body: {
      messages: received.map(({ encoded, lock }) => {
        const entry: Record<string, unknown> = { message: encoded };
        // Unlike a delivery tag, this lock token travels as a uuid in RFC byte order. The JavaScript SDK
        // reads it here; the message itself carries it too, in x-opt-lock-token, where the Python SDK looks.
        if (lock) entry['lock-token'] = amqpTypes.wrap_uuid(uuidBytes(lock.token.id));
        return entry;
      }),
    },
  };
}

function failure(result: Settlement): ManagementResponse {
  if (result.ok) return { statusCode: 200 };
  return {
    statusCode: result.condition === LOCK_LOST_CONDITION ? 410 : 400,
    errorCondition: result.condition,
    statusDescription: result.description,
  };
}

function lockTokens(value: unknown): string[] {
  if (!Array.isArray(value)) throw new Error('lock-tokens must be an array of uuids');
  return value.map((token) => {
    if (!Buffer.isBuffer(token) || token.length !== 16)
      throw new Error('lock-tokens must be an array of uuids');
    return lockTokenId(token);
  });
}

function sequenceNumbers(value: unknown): number[] {
  if (!Array.isArray(value)) throw new Error('sequence-numbers must be an array of longs');
  return value.map(toNumber);
}

/** rhea decodes a long as a number when it is exact, otherwise as its 8 bytes. */
function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE());
  throw new Error(`expected a number, got ${typeof value}`);
}

function sessionId(body: RequestBody): string {
  const value = body['session-id'];
  if (typeof value !== 'string') throw new Error('session-id must be a string');
  return value;
}

/** A session's state is binary; null (or nothing) clears it. */
function sessionState(value: unknown): Buffer | undefined {
  if (value === null || value === undefined) return undefined;
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  throw new Error('session-state must be binary');
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
