import { connect } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { startServiceBusEmulator, type StartedEmulator } from '../../tools/servicebus-emulator';
import { closeClient, connectAsClient, openSender, sendAndSettle } from './rawAmqpClient';

describe('Service Bus emulator: TLS and WebSocket listeners', () => {
  let emulator: StartedEmulator;
  beforeAll(async () => {
    emulator = await startServiceBusEmulator({ queues: { secure: {} }, tls: {} });
  });
  afterAll(() => emulator.close());

  /** A TLS socket to the emulator's TLS port that trusts its certificate, and an HTTP upgrade request for `path`. */
  const tlsSocket = () =>
    connectTls({
      port: emulator.tls!.port,
      host: '127.0.0.1',
      servername: 'localhost',
      ca: emulator.tls!.certificate,
    });
  const upgradeRequest = (path: string) =>
    `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: AMQPWSB10\r\n\r\n';

  it('serves AMQPS with a certificate for localhost that a client can verify', async () => {
    const connection = await connectAsClient(emulator.tls!.port, {
      transport: 'tls',
      host: 'localhost',
      ca: emulator.tls!.certificate,
      servername: 'localhost',
    } as object);

    const sender = await openSender(connection, { target: 'secure' });
    const result = await sendAndSettle(sender, { body: 'over tls' });

    expect(result).toEqual({ outcome: 'accepted', remoteSettled: true });
    await closeClient(connection);
  });

  it('answers a WebSocket request for another path than /$servicebus/websocket with 404', async () => {
    const socket = tlsSocket();
    let response = '';
    socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));

    socket.write(upgradeRequest('/elsewhere'));
    await closed;

    expect(response).toMatch(/^HTTP\/1.1 404 /);
  });

  it.each([
    ['GET /secure/$management?api-version=2021-05 HTTP/1.1'],
    ['GET /secure/Subscriptions/all?api-version=2021-05 HTTP/1.1'],
    ['POST /secure?api-version=2021-05 HTTP/1.1'],
  ])(
    'answers an HTTP request it does not serve (%s) with 501 and a reason, not a closed socket',
    async (requestLine) => {
      const socket = connect({ port: emulator.port, host: '127.0.0.1' });
      let response = '';
      socket.on('data', (chunk: Buffer) => (response += chunk.toString('utf8')));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));

      socket.write(`${requestLine}\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      await closed;

      expect(response).toMatch(/^HTTP\/1.1 501 Not Implemented\r\n/);
      expect(response).toMatch(
        /<Error><Code>501<\/Code><Detail>.*topics, subscriptions and rules are not implemented/,
      );
    },
  );

  it('accepts the WebSocket upgrade at /$servicebus/websocket with the AMQPWSB10 subprotocol', async () => {
    const socket = tlsSocket();
    const headers = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.includes('\r\n\r\n')) resolve(text);
      });
    });

    socket.write(upgradeRequest('/$servicebus/websocket/'));
    const response = await headers;
    socket.destroy();

    expect(response).toMatch(/^HTTP\/1.1 101 /);
    // RFC 6455 §1.3's worked example: this key's accept value.
    expect(response).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(response).toContain('Sec-WebSocket-Protocol: AMQPWSB10');
  });
});
