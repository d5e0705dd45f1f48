import type { Duplex } from 'node:stream';
import type { Connection, EventContext, Message, Receiver, Sender } from 'rhea';
import { answerCbsRequest } from './cbs';
import { DeliveryLink } from './deliveryLink';
import { parseEntityAddress, type EntityAddress } from './entityAddress';
import { MAX_MESSAGE_SIZE, acceptIncomingMessages } from './incomingLink';
import { log } from './log';
import { answerManagementRequest } from './managementOperations';
import type { Namespace } from './namespace';
import { refuse } from './refuseLink';
import { ReplyRouter } from './replyRouter';
import { conformServerSessions } from './rheaServerSession';
import {
  ACCEPT_NEXT_SESSION_TIMEOUT_MS,
  attachSessionReceiver,
  requestedSession,
  type SessionReceiverOptions,
} from './sessionReceiverLink';

/** The parts of a rhea connection a listener needs that rhea's typings leave out. */
export interface ServerConnection extends Connection {
  accept(socket: Duplex): ServerConnection;
  _process(): void;
}

/** Link fields the broker sets before its attach goes out. */
interface LinkInternals {
  local: { attach: { snd_settle_mode?: number; rcv_settle_mode?: number; max_message_size?: number } };
}

const RCV_SETTLE_FIRST = 0;

/**
 * Serves one client connection: routes each link the client attaches to $cbs, an entity's $management node,
 * a queue or its dead-letter sub-queue, and refuses the rest with the error the service would give. A fault
 * while handling the connection closes that connection only.
 */
export function serveConnection(
  connection: ServerConnection,
  namespace: Namespace,
  sessionOptions: SessionReceiverOptions = { acceptNextSessionTimeoutMs: ACCEPT_NEXT_SESSION_TIMEOUT_MS },
): void {
  const replies = new ReplyRouter();
  const cleanups = new Map<Sender | Receiver, () => void>();

  const fail = (condition: string, error: unknown) => {
    log(`closing a connection after ${condition}:`, error);
    if (connection.is_remote_open() && !connection.is_closed()) {
      connection.close({
        condition,
        description: `The emulator could not process a frame: ${String(error)}`,
      });
      // rhea ends the socket right after this handler returns; write the close frame before it does.
      connection._process();
    }
  };
  const guard: Guard =
    <T>(handler: (value: T) => void) =>
    (value: T): void => {
      try {
        handler(value);
      } catch (error) {
        fail('amqp:internal-error', error);
      }
    };

  conformServerSessions(connection);
  connection.on('protocol_error', (error: unknown) => fail('amqp:decode-error', error));
  // rhea's own decoding errors are named TypeError without being one; anything else is our fault.
  connection.on('error', (error: unknown) =>
    fail(isRheaDecodeError(error) ? 'amqp:decode-error' : 'amqp:internal-error', error),
  );
  connection.on('connection_error', (context: EventContext) =>
    log('connection error:', context.connection.error),
  );
  connection.on('session_error', (context: EventContext) => log('session error:', context.session?.error));
  connection.on('disconnected', () => {
    for (const cleanup of cleanups.values()) cleanup();
    cleanups.clear();
  });
  // A client may end a session without detaching its links first.
  connection.on('session_close', (context: EventContext) => {
    for (const [link, cleanup] of cleanups) {
      if (link.session === context.session) {
        cleanup();
        cleanups.delete(link);
      }
    }
  });
  const closeLink = (context: EventContext) => {
    const link = context.sender ?? context.receiver;
    if (!link) return;
    if (context.sender) replies.unregister(context.sender);
    cleanups.get(link)?.();
    cleanups.delete(link);
  };
  connection.on('sender_error', (context: EventContext) => log('sender link error:', context.sender?.error));
  connection.on('receiver_error', (context: EventContext) =>
    log('receiver link error:', context.receiver?.error),
  );
  connection.on('sender_close', guard(closeLink));
  connection.on('receiver_close', guard(closeLink));

  // The client's receiver: we send from `source`.
  connection.on(
    'sender_open',
    guard((context) => {
      const sender = context.sender;
      if (!sender) return;
      echoTermini(sender);
      if (isDynamic(sender.source)) {
        refuse(
          sender,
          'amqp:not-implemented',
          'Dynamic nodes are not supported: attach the reply link with a fixed source address and send it as reply-to, as Service Bus documents.',
        );
        return;
      }
      const address = parseEntityAddress(sender.source?.address);
      if (address.kind === 'cbs' || (address.kind === 'entity' && address.management)) {
        replies.register(sender, nodeName(address));
        return;
      }
      if (address.kind !== 'entity') {
        refuse(sender, 'amqp:not-found', 'A receiver link needs a source address.');
        return;
      }
      const found = namespace.find(address.path);
      if (found.kind !== 'queue') {
        refuse(sender, found.condition, found.description);
        return;
      }
      const receiveMode = sender.snd_settle_mode === 1 ? 'receiveAndDelete' : 'peekLock';
      const session = requestedSession(sender);
      if (session || found.queue.requiresSession) {
        const release = attachSessionReceiver(sender, found.queue, session, receiveMode, sessionOptions);
        cleanups.set(sender, release);
        return;
      }
      const consumer = new DeliveryLink(sender, found.queue, receiveMode);
      found.queue.addConsumer(consumer);
      cleanups.set(sender, () => found.queue.removeConsumer(consumer));
    }),
  );

  // The client's sender: we receive at `target`.
  connection.on(
    'receiver_open',
    guard((context) => {
      const receiver = context.receiver;
      if (!receiver) return;
      echoTermini(receiver);
      const address = parseEntityAddress(receiver.target?.address);
      if (address.kind === 'cbs') {
        answerRequests(receiver, nodeName(address), replies, guard, answerCbsRequest);
        return;
      }
      if (address.kind !== 'entity') {
        refuse(
          receiver,
          'amqp:not-implemented',
          'Transactions are not supported by the Service Bus emulator.',
        );
        return;
      }
      const found = namespace.find(address.path);
      if (found.kind !== 'queue') {
        refuse(receiver, found.condition, found.description);
        return;
      }
      const queue = found.queue;
      if (address.management) {
        answerRequests(receiver, nodeName(address), replies, guard, (request) =>
          answerManagementRequest(queue, request),
        );
        return;
      }
      if (queue.isDeadLetterQueue) {
        refuse(receiver, 'amqp:not-allowed', 'Messages cannot be sent to a dead-letter sub-queue.');
        return;
      }
      (receiver as unknown as LinkInternals).local.attach.max_message_size = MAX_MESSAGE_SIZE;
      acceptIncomingMessages(receiver, queue);
    }),
  );
}

/**
 * The SDK dereferences the source and target of our attach, so they go back as the client sent them, and
 * so do the settle modes, but for one: where we receive, we answer rcv-settle-mode `first` whatever the
 * client asked, so that its transfers are settled at once. `second` is valid AMQP, but uamqp's sender then
 * waits for a settled disposition that never comes, and times out.
 */
function echoTermini(link: Sender | Receiver): void {
  const attach = (link as unknown as LinkInternals).local.attach;
  attach.snd_settle_mode = link.snd_settle_mode;
  attach.rcv_settle_mode = link.is_receiver() ? RCV_SETTLE_FIRST : link.rcv_settle_mode;
  link.set_source({ address: link.source?.address });
  link.set_target({ address: link.target?.address });
}

type RequestHandler = (request: Message) => Message;
/** Runs a handler so that a fault in it closes this connection only. */
type Guard = <T>(handler: (value: T) => void) => (value: T) => void;

/**
 * A request/response node: each request is accepted first and answered after that disposition has gone
 * out, as the service does. rhea writes a session's transfers before its dispositions within one pass, so
 * the reply waits for the next turn of the event loop; uamqp fails an operation whose reply comes first.
 */
function answerRequests(
  receiver: Receiver,
  node: string,
  replies: ReplyRouter,
  guard: Guard,
  answer: RequestHandler,
): void {
  receiver.on(
    'message',
    guard((context) => {
      const request = context.message;
      context.delivery?.accept();
      if (!request) return;
      const response = answer(request);
      setImmediate(guard(() => replies.reply(request.reply_to, node, response)));
    }),
  );
}

function nodeName(address: EntityAddress): string {
  return address.kind === 'entity' ? `${address.path}/$management` : '$cbs';
}

function isDynamic(terminus: unknown): boolean {
  return (terminus as { dynamic?: boolean } | undefined)?.dynamic === true;
}

function isRheaDecodeError(error: unknown): boolean {
  return error instanceof Error && error.name === 'TypeError' && !(error instanceof TypeError);
}
