import type { Message } from 'rhea';
import type { ReplyRouter } from './replyRouter';

/**
 * Claims-based security: the emulator accepts every token (the official emulator's connection string uses a
 * fixed key), but answers put-token as the service does, or the SDK never attaches its links.
 */
export function answerCbsRequest(request: Message, replies: ReplyRouter): void {
  const operation = request.application_properties?.operation;
  const accepted = operation === 'put-token';
  replies.reply(request.reply_to, {
    correlation_id: request.message_id,
    application_properties: accepted
      ? { 'status-code': 202, 'status-description': 'Accepted' }
      : { 'status-code': 400, 'status-description': `Unsupported CBS operation '${String(operation)}'.` },
  });
}
