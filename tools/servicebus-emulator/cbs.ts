import type { Message } from 'rhea';
import { amqpTypes } from './amqpCodec';

/**
 * Claims-based security: the emulator accepts every token (the official emulator's connection string uses a
 * fixed key), but answers put-token as the service does, or the SDK never attaches its links. The status
 * code is an AMQP int, as the service sends it: uamqp reads no other type.
 */
export function answerCbsRequest(request: Message): Message {
  const operation = request.application_properties?.operation;
  const accepted = operation === 'put-token';
  const reply: Record<string, unknown> = {
    correlation_id: request.message_id,
    application_properties: accepted
      ? { 'status-code': amqpTypes.wrap_int(202), 'status-description': 'Accepted' }
      : {
          'status-code': amqpTypes.wrap_int(400),
          'status-description': `Unsupported CBS operation '${String(operation)}'.`,
        },
  };
  return reply as unknown as Message;
}
