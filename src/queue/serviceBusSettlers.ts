import { JobsError } from '../jobs/errors';
import type { MessageSettler } from '../jobs/dispatch/settlement';

/**
 * The settlement actions of the Functions SDK-type Service Bus binding (`@azure/functions-extensions-servicebus`),
 * reduced to what we call. Each is valid only while the invocation runs.
 */
export interface ServiceBusMessageActions<TMessage> {
  complete(message: TMessage): Promise<void>;
  abandon(message: TMessage, propertiesToModify?: Record<string, unknown>): Promise<void>;
  deadletter(
    message: TMessage,
    propertiesToModify?: Record<string, unknown>,
    deadletterReason?: string,
    deadletterErrorDescription?: string,
  ): Promise<void>;
}

/** `explicit` settlement: every decision is an explicit call on the message, dead-letters with reason and description. */
export function explicitModeSettler<TMessage>(
  actions: ServiceBusMessageActions<TMessage>,
  message: TMessage,
): MessageSettler {
  return {
    complete: () => actions.complete(message),
    abandon: () => actions.abandon(message),
    deadLetter: (reason, description) => actions.deadletter(message, undefined, reason, description),
  };
}

/** Thrown in `host` settlement so the host abandons the message; the job record already holds the decision. */
export class MessageNotCompletedError extends JobsError {
  constructor(message: string) {
    super('TransientJobFailure', message);
  }
}

/**
 * `host` settlement (GA binding, `autoCompleteMessages: true`): returning completes, throwing abandons. A dead-letter
 * is recorded on the job by the dispatcher; the message then fails fast on each delivery, without running the
 * handler, until the queue's MaxDeliveryCount moves it to the dead-letter sub-queue.
 */
export const hostModeSettler: MessageSettler = {
  complete: async () => undefined,
  abandon: async (description) => {
    throw new MessageNotCompletedError(`Abandoned: ${description}`);
  },
  deadLetter: async (reason, description) => {
    throw new MessageNotCompletedError(`Dead-lettered (${reason}): ${description}`);
  },
};
