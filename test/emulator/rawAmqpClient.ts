import rhea from 'rhea';
import type {
  Connection,
  ConnectionOptions,
  Delivery,
  EventContext,
  Message,
  Receiver,
  ReceiverOptions,
  Sender,
  SenderOptions,
} from 'rhea';
import { readSections, rawBytesOf, type TypedValue } from '../../tools/servicebus-emulator/amqpCodec';

/**
 * rhea as a client, configured the way another SDK behaves (SASL mechanism, settle modes, pipelined
 * attach and flow, link names), for the AMQP that `@azure/service-bus` never sends.
 */
export async function connectAsClient(
  port: number,
  options: Partial<ConnectionOptions> = {},
): Promise<Connection> {
  const connection = rhea
    .create_container()
    .connect({ host: '127.0.0.1', port, reconnect: false, ...options } as ConnectionOptions);
  connection.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    connection.once('connection_open', () => resolve());
    connection.once('connection_error', (context: EventContext) => {
      const error = (context as EventContext & { error?: { condition?: string; description?: string } })
        .error;
      reject(new Error(`connection refused: ${error?.condition} ${error?.description}`));
    });
    connection.once('disconnected', (context: EventContext) =>
      reject(new Error(`disconnected: ${String(context.error ?? 'before the open frame')}`)),
    );
  });
  return connection;
}

export async function closeClient(connection: Connection): Promise<void> {
  if (!connection.is_open()) return;
  await new Promise<void>((resolve) => {
    connection.once('connection_close', () => resolve());
    connection.once('disconnected', () => resolve());
    connection.close();
  });
}

/** A frame as the client received it, in order: its performative and the link handle it names. */
export interface ReceivedFrame {
  performative: string;
  handle?: number;
  /** For a disposition: true when it is about the client's own transfers (the peer is the receiver). */
  role?: boolean;
}

const RECORDED = ['attach', 'detach', 'flow', 'transfer', 'disposition'] as const;

/** Records every link-level frame the client receives, before rhea handles it. */
export function recordFrames(connection: Connection): ReceivedFrame[] {
  const frames: ReceivedFrame[] = [];
  const handlers = connection as unknown as Record<string, (frame: unknown) => void>;
  for (const name of RECORDED) {
    const original = handlers[`on_${name}`]!.bind(connection);
    handlers[`on_${name}`] = (frame) => {
      const performative = (frame as { performative: { handle?: number; role?: boolean } }).performative;
      frames.push({ performative: name, handle: performative.handle, role: performative.role });
      original(frame);
    };
  }
  return frames;
}

export async function openSender(connection: Connection, options: SenderOptions): Promise<Sender> {
  const sender = connection.open_sender(options);
  await linkOpened(sender, 'sender_open');
  return sender;
}

export async function openReceiver(connection: Connection, options: ReceiverOptions): Promise<Receiver> {
  const receiver = connection.open_receiver(options);
  await linkOpened(receiver, 'receiver_open');
  return receiver;
}

function linkOpened(link: Sender | Receiver, event: 'sender_open' | 'receiver_open'): Promise<void> {
  return new Promise((resolve, reject) => {
    link.once(event, () => resolve());
    link.once(event.replace('open', 'close'), () =>
      reject(new Error(`link closed: ${JSON.stringify(link.error)}`)),
    );
  });
}

/** The next link error (detach with an error) on `link`. */
export function linkClosed(link: Sender | Receiver): Promise<{ condition?: string; description?: string }> {
  return new Promise((resolve) => {
    const onClose = () => resolve((link.error ?? {}) as { condition?: string; description?: string });
    link.once('sender_close', onClose);
    link.once('receiver_close', onClose);
  });
}

/** The next message on `receiver`, with its delivery; fails when the connection goes down first. */
export function nextMessage(receiver: Receiver): Promise<{ message: Message; delivery: Delivery }> {
  return new Promise((resolve, reject) => {
    const onDisconnected = (context: EventContext) =>
      reject(new Error(`disconnected while waiting for a message: ${String(context.error)}`));
    receiver.connection.once('disconnected', onDisconnected);
    receiver.once('message', (context: EventContext) => {
      receiver.connection.off('disconnected', onDisconnected);
      resolve({ message: context.message!, delivery: context.delivery! });
    });
  });
}

/** Sends one message and resolves with the outcome the emulator gave it, and whether it came settled. */
export function sendAndSettle(
  sender: Sender,
  message: Message,
): Promise<{ outcome: string; remoteSettled: boolean }> {
  return new Promise((resolve) => {
    const delivery = sender.send(message);
    const onOutcome = (context: EventContext) => {
      if (context.delivery !== delivery) return;
      for (const event of ['accepted', 'rejected', 'released', 'modified']) sender.off(event, onOutcome);
      const outcome = (delivery.remote_state as { constructor?: { composite_type?: string } } | undefined)
        ?.constructor?.composite_type;
      resolve({ outcome: outcome ?? 'none', remoteSettled: delivery.remote_settled });
    };
    for (const event of ['accepted', 'rejected', 'released', 'modified']) sender.on(event, onOutcome);
  });
}

/**
 * The AMQP type code of an application property as it travelled, read from the message's bytes
 * (the emulator, started in this process, keeps them; see `captureRawMessageBytes`).
 */
export function applicationPropertyTypeCode(message: Message, key: string): number | undefined {
  const bytes = rawBytesOf(message);
  if (!bytes) throw new Error('no raw bytes: start the emulator in this process first');
  const section = readSections(bytes).find((candidate) => candidate.code === 0x74);
  const entries = (section?.value.value ?? []) as TypedValue[];
  for (let i = 0; i + 1 < entries.length; i += 2) {
    if (entries[i]?.value === key) return entries[i + 1]?.type.typecode;
  }
  return undefined;
}

export const AMQP_INT_TYPECODES = [0x54, 0x71];
