import { connect, type Socket } from 'node:net';
import { isServiceBusError } from '@azure/service-bus';
import type { EventContext } from 'rhea';
import { startServiceBusEmulator } from '../../tools/servicebus-emulator';
import { useEmulator } from './emulatorHarness';
import { connectAsClient } from './rawAmqpClient';

describe('Service Bus emulator: errors', () => {
  const bus = useEmulator({
    config: {
      UserConfig: {
        Namespaces: [
          {
            Name: 'sbemulatorns',
            Queues: [{ Name: 'known', Properties: {} }],
            Topics: [{ Name: 'events' }],
          },
        ],
      },
    },
    queues: { 'session-queue': { RequiresSession: true } },
  });

  it('fails fast with MessagingEntityNotFound for an unknown queue', async () => {
    const sender = bus.sender('no-such-queue');
    const receiver = bus.receiver('no-such-queue');
    const started = Date.now();

    const sendError = await sender.sendMessages({ body: 'x' }).catch((error: unknown) => error);
    const receiveError = await receiver
      .receiveMessages(1, { maxWaitTimeInMs: 1000 })
      .catch((error: unknown) => error);

    expect(isServiceBusError(sendError) && sendError.code).toBe('MessagingEntityNotFound');
    expect(isServiceBusError(receiveError) && receiveError.code).toBe('MessagingEntityNotFound');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('refuses a session receiver on a queue without sessions, and a message without session id on one with them, as the service does', async () => {
    const started = Date.now();

    const acceptError = await bus.client.acceptSession('known', 'session-1').catch((error: unknown) => error);
    const sendError = await bus
      .sender('session-queue')
      .sendMessages({ body: 'x' })
      .catch((error: unknown) => error);

    expect(String((acceptError as Error).message)).toMatch(
      /A sessionful message receiver cannot be created on an entity that does not require sessions/,
    );
    expect(String((sendError as Error).message)).toMatch(/The SessionId was not set on a message/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses a declared topic with a not-implemented error', async () => {
    const sender = bus.sender('events');

    const error = await sender.sendMessages({ body: 'x' }).catch((caught: unknown) => caught);

    expect(String((error as Error).message)).toMatch(/supports queues only/);
  });

  it('refuses a sender to a dead-letter sub-queue', async () => {
    const sender = bus.sender('known/$DeadLetterQueue');

    const error = await sender.sendMessages({ body: 'x' }).catch((caught: unknown) => caught);

    expect(String((error as Error).message)).toMatch(/cannot be sent to a dead-letter sub-queue/);
  });

  it('closes a connection that sends garbage and keeps serving others', async () => {
    const socket = connect(bus.emulator.port, '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);

    // Neither an AMQP header nor HTTP (which the port answers: the WebSocket upgrade, or 501 for the rest).
    socket.write('HELO amqp.example\r\n');
    await closed;
    const sender = bus.sender('known');
    const receiver = bus.receiver('known');
    await sender.sendMessages({ body: 'still alive' });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(message?.body).toBe('still alive');
    await receiver.completeMessage(message!);
  });

  it('closes a connection with an error when a frame after the handshake is malformed', async () => {
    const connection = await connectAsClient(bus.emulator.port);
    const socket = (connection as unknown as { socket: Socket }).socket;
    const errored = new Promise<{ condition?: string } | undefined>((resolve) => {
      connection.on('connection_error', (context: EventContext) =>
        resolve(context.connection.error as { condition?: string }),
      );
      connection.on('disconnected', () => resolve(undefined));
    });

    // A frame header announcing a 16-byte AMQP frame whose body is not a performative.
    socket.write(Buffer.from([0, 0, 0, 16, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    const outcome = await errored;

    expect(outcome?.condition).toBe('amqp:decode-error');
    await expect(bus.sender('known').sendMessages({ body: 'fine' })).resolves.toBeUndefined();
  });

  it('refuses a transaction coordinator link as not implemented', async () => {
    const connection = await connectAsClient(bus.emulator.port);

    const error = await new Promise<{ condition?: string }>((resolve) => {
      const sender = connection.open_sender({ target: {} });
      sender.on('sender_error', (context: EventContext) =>
        resolve(context.sender?.error as { condition?: string }),
      );
    });

    expect(error.condition).toBe('amqp:not-implemented');
    connection.close();
  });

  it('ends open connections with amqp:connection:forced when it closes', async () => {
    const own = await startServiceBusEmulator({ port: 0 });
    const connection = await connectAsClient(own.port);
    const closed = new Promise<unknown>((resolve) =>
      connection.on('connection_error', (context: EventContext) => resolve(context.connection.error)),
    );

    await own.close();
    const error = (await closed) as { condition?: string };

    expect(error.condition).toBe('amqp:connection:forced');
  });
});
