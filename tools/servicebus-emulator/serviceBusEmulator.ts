import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import rhea from 'rhea';
import type { AmqpError, ConnectionOptions, SenderOptions, ServerConnectionOptions } from 'rhea';
import { captureRawMessageBytes } from './amqpCodec';
import { DeadlineTimer } from './deadlineTimer';
import {
  readEmulatorConfig,
  resolveNamespace,
  type EmulatorConfig,
  type QueueProperties,
} from './emulatorConfig';
import { log } from './log';
import { Namespace } from './namespace';
import { serveConnection, type ServerConnection } from './serveConnection';

export interface StartedEmulator {
  host: string;
  port: number;
  /** The official emulator's connection-string form, pointing at this instance. */
  connectionString: string;
  /** Closes every connection (with `amqp:connection:forced`), the listener and all timers. */
  close(): Promise<void>;
}

export interface ServiceBusEmulatorOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** A parsed Config.json object, or the path of one. */
  config?: EmulatorConfig | string;
  /** Extra queues, or overrides of configured ones, by name; durations may be shorter than Azure allows. */
  queues?: Record<string, Partial<QueueProperties>>;
}

const SHUTDOWN: AmqpError = {
  condition: 'amqp:connection:forced',
  description: 'The Service Bus emulator is shutting down.',
};
const CLOSE_GRACE_MS = 1000;

/** Starts an AMQP 1.0 listener that behaves like a Service Bus namespace for `@azure/service-bus`. */
export async function startServiceBusEmulator(
  options: ServiceBusEmulatorOptions = {},
): Promise<StartedEmulator> {
  captureRawMessageBytes();
  const config = typeof options.config === 'string' ? readEmulatorConfig(options.config) : options.config;
  const settings = resolveNamespace(config, options.queues);
  const host = options.host ?? '127.0.0.1';

  const timer = new DeadlineTimer((now) => {
    try {
      return namespace.sweep(now);
    } catch (error) {
      log('sweep failed:', error);
      return now + 1000;
    }
  });
  const namespace = new Namespace(settings, (deadline) => timer.request(deadline));
  const container = rhea.create_container({ id: `servicebus-emulator-${settings.name}` });
  const connections = new Map<Socket, ServerConnection>();
  const serverOptions: ServerConnectionOptions = {
    container_id: settings.name,
    // rhea creates links when the client attaches; these defaults are the only way to shape them.
    sender_options: { treat_modified_as_released: false } as SenderOptions,
    receiver_options: { autoaccept: false },
    // rhea frees a session's delivery slots in order, so one delivery the client never settles (its lock
    // expired) holds back every later one; a deep buffer keeps such a receiver flowing for a long time.
    session_buffer_size: { incoming: 2048, outgoing: 65536 },
  };
  // rhea types create_connection for clients only; a server connection takes the same options minus host.
  const connectionOptions = serverOptions as unknown as ConnectionOptions;

  const server = createServer((socket) => {
    const connection = container.create_connection(connectionOptions) as ServerConnection;
    connections.set(socket, connection);
    socket.on('close', () => connections.delete(socket));
    serveConnection(connection, namespace);
    connection.accept(socket);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log('listener error:', error));
  const port = (server.address() as AddressInfo).port;
  log(`listening on ${host}:${port} with queues ${settings.queues.map((queue) => queue.name).join(', ')}`);

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    connectionString: `Endpoint=sb://localhost:${port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`,
    close: () => (closing ??= shutDown(server, connections, timer)),
  };
}

async function shutDown(
  server: Server,
  connections: Map<Socket, ServerConnection>,
  timer: DeadlineTimer,
): Promise<void> {
  timer.close();
  const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  const socketsClosed = Promise.all(
    [...connections.keys()].map((socket) => new Promise((resolve) => socket.once('close', resolve))),
  );
  for (const [socket, connection] of connections) {
    if (connection.is_remote_open() && !connection.is_closed()) {
      // An error condition matters: after a clean close the SDK reopens without sessions and hangs.
      connection.close(SHUTDOWN);
    } else {
      socket.destroy();
    }
  }
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([
    socketsClosed,
    new Promise((resolve) => (grace = setTimeout(resolve, CLOSE_GRACE_MS))),
  ]);
  clearTimeout(grace);
  for (const socket of connections.keys()) socket.destroy();
  await listenerClosed;
}
