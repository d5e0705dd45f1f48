import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import rhea from 'rhea';
import type { AmqpError, ConnectionOptions, SenderOptions, ServerConnectionOptions } from 'rhea';
import { answerAdministrationRequest } from './administration';
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
import { EMULATOR_KEY, serviceBusSaslMechanisms } from './saslMechanisms';
import { createSelfSignedCertificate, type TlsCertificate } from './selfSignedCertificate';
import { serveConnection, type ServerConnection } from './serveConnection';
import { ACCEPT_NEXT_SESSION_TIMEOUT_MS } from './sessionReceiverLink';
import { acceptWebSocket, looksLikeHttp } from './webSocketStream';

export interface StartedEmulator {
  host: string;
  port: number;
  /** The official emulator's connection-string form, pointing at this instance. */
  connectionString: string;
  /** The TLS listener (AMQPS and WebSocket over TLS), when `tls` was given. */
  tls?: { port: number; certificate: string };
  /** Closes every connection (with `amqp:connection:forced`), the listeners and all timers. */
  close(): Promise<void>;
}

export interface TlsListenerOptions {
  /** TCP port of the TLS listener; 0 (the default) picks a free one. The service uses 5671. */
  port?: number;
  /** Certificate and key (PEM); by default a self-signed one for localhost is made at start-up. */
  certificate?: TlsCertificate;
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
  /**
   * Also listen with TLS, as the service does on 5671 (clients such as uamqp speak nothing else). Both
   * listeners also serve AMQP over WebSocket at `/$servicebus/websocket`.
   */
  tls?: TlsListenerOptions;
  /**
   * How long an accept-next-session receiver waits for a session with messages when its client names no
   * timeout (the `com.microsoft:timeout` link property, which uamqp-based Python SDKs do not send); then it is
   * refused with `com.microsoft:timeout`. The service waits 65 s; tests shorten it.
   */
  acceptNextSessionTimeoutMs?: number;
}

const SHUTDOWN: AmqpError = {
  condition: 'amqp:connection:forced',
  description: 'The Service Bus emulator is shutting down.',
};
const CLOSE_GRACE_MS = 1000;

/** The connection string of an emulator on `port` of this machine, as Microsoft's emulator documents it. */
export function emulatorConnectionString(port: number): string {
  return `Endpoint=sb://localhost:${port};SharedAccessKeyName=${EMULATOR_KEY.keyName};SharedAccessKey=${EMULATOR_KEY.key};UseDevelopmentEmulator=true;`;
}

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
  container.sasl_server_mechanisms = serviceBusSaslMechanisms();
  const connections = new Map<Socket, ServerConnection>();
  // Every open socket, also those not yet speaking AMQP (before their first bytes or WebSocket handshake).
  const sockets = new Set<Socket>();
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

  const serve = (socket: Socket, stream: Duplex = socket) => {
    const connection = container.create_connection(connectionOptions) as ServerConnection;
    connections.set(socket, connection);
    socket.on('close', () => connections.delete(socket));
    serveConnection(connection, namespace, {
      acceptNextSessionTimeoutMs: options.acceptNextSessionTimeoutMs ?? ACCEPT_NEXT_SESSION_TIMEOUT_MS,
    });
    connection.accept(stream);
  };
  // HTTP on the same ports: the WebSocket upgrade to AMQP, and the administration API's REST calls. Never
  // listening itself; it is handed the sockets whose first bytes are an HTTP request.
  const http = createHttpServer((request, response) =>
    answerAdministrationRequest(namespace, request, response),
  );
  http.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    acceptWebSocket(request, socket, head).then(
      (stream) => serve(socket, stream),
      (error: unknown) => log('refused a WebSocket request:', error),
    );
  });
  // AMQP and HTTP share each port: the first bytes tell an AMQP header from an HTTP request.
  const route = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', (error) => log('socket error:', error));
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (looksLikeHttp(first)) http.emit('connection', socket);
      else serve(socket);
      socket.resume();
    });
  };

  const servers: Server[] = [createServer(route)];
  const tlsCertificate = options.tls ? (options.tls.certificate ?? createSelfSignedCertificate()) : undefined;
  if (tlsCertificate) {
    const tlsServer = createTlsServer({ cert: tlsCertificate.cert, key: tlsCertificate.key }, route);
    tlsServer.on('tlsClientError', (error) => log('TLS handshake failed:', error));
    servers.push(tlsServer);
  }
  const [port, tlsPort] = await Promise.all([
    listen(servers[0]!, options.port ?? 0, host),
    servers[1] ? listen(servers[1], options.tls?.port ?? 0, host) : undefined,
  ]).catch(async (error: unknown) => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    timer.close();
    throw error;
  });
  log(`listening on ${host}:${port} with queues ${settings.queues.map((queue) => queue.name).join(', ')}`);
  if (tlsPort !== undefined) log(`listening with TLS on ${host}:${tlsPort}`);

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    connectionString: emulatorConnectionString(port),
    ...(tlsCertificate && tlsPort !== undefined
      ? { tls: { port: tlsPort, certificate: tlsCertificate.cert } }
      : {}),
    close: () => (closing ??= shutDown(servers, sockets, connections, timer)),
  };
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log('listener error:', error));
  return (server.address() as AddressInfo).port;
}

async function shutDown(
  servers: Server[],
  sockets: Set<Socket>,
  connections: Map<Socket, ServerConnection>,
  timer: DeadlineTimer,
): Promise<void> {
  timer.close();
  for (const socket of sockets) {
    if (!connections.has(socket)) socket.destroy();
  }
  const listenersClosed = Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
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
  await listenersClosed;
}
