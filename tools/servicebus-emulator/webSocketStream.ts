import { createHash } from 'node:crypto';
import { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** The path Service Bus serves AMQP over WebSocket on; uamqp adds a trailing slash. */
const WEBSOCKET_PATH = /^\/\$servicebus\/websocket\/?(\?.*)?$/i;
/** Subprotocols: Service Bus's own name first, then the OASIS AMQP WebSocket binding's. */
const SUBPROTOCOLS = ['AMQPWSB10', 'amqp'];
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

const HTTP_REQUEST_LINE = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) /;

/** True when a connection's first bytes are an HTTP request rather than an AMQP protocol header. */
export function looksLikeHttp(firstBytes: Buffer): boolean {
  return HTTP_REQUEST_LINE.test(firstBytes.subarray(0, 8).toString('latin1'));
}

/**
 * Answers the WebSocket handshake (RFC 6455) for `/$servicebus/websocket`, given the upgrade request Node's HTTP
 * parser read and the bytes after it, and resolves with a byte stream of the binary messages' payloads, which rhea
 * serves as if it were the socket itself. A request for another path or without an AMQP subprotocol gets an HTTP
 * error. Written here because the `ws` package is not a dependency; it covers what AMQP needs: binary and
 * continuation frames, ping, close.
 */
export function acceptWebSocket(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<Duplex> {
  const fail = (status: string, reason: string) => {
    const body = Buffer.from(`${reason}\n`, 'utf8');
    // Destroyed once written: a client that reads nothing would otherwise hold the connection open.
    socket.once('finish', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body.toString('latin1')}`,
      'latin1',
    );
    return Promise.reject(new Error(reason));
  };
  const path = request.url ?? '';
  const key = request.headers['sec-websocket-key'];
  const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((name) => name.trim());
  const protocol = SUBPROTOCOLS.find((name) => offered.includes(name));
  if (!WEBSOCKET_PATH.test(path)) return fail('404 Not Found', `no WebSocket endpoint at ${path}`);
  if (request.method !== 'GET' || request.headers.upgrade?.toLowerCase() !== 'websocket' || !key) {
    return fail('400 Bad Request', 'not a WebSocket upgrade request');
  }
  if (!protocol) return fail('400 Bad Request', `no AMQP subprotocol offered (${offered.join(', ')})`);
  const accept = createHash('sha1')
    .update(key + HANDSHAKE_GUID)
    .digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
  );
  return Promise.resolve(webSocketDuplex(socket as Socket, head));
}

function webSocketDuplex(socket: Socket, rest: Buffer): Duplex {
  let pending = rest;
  let closed = false;
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (closed) return callback();
      socket.write(encodeFrame(OPCODE.binary, chunk), callback);
    },
    final(callback) {
      if (!closed) {
        closed = true;
        socket.end(encodeFrame(OPCODE.close, Buffer.from([0x03, 0xe8])));
      }
      callback();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  const consume = (chunk: Buffer) => {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      const frame = decodeFrame(pending);
      if (!frame) return;
      pending = pending.subarray(frame.length);
      switch (frame.opcode) {
        case OPCODE.binary:
        case OPCODE.continuation:
          if (!stream.push(frame.payload)) socket.pause();
          break;
        case OPCODE.ping:
          socket.write(encodeFrame(OPCODE.pong, frame.payload));
          break;
        case OPCODE.pong:
          break;
        case OPCODE.close:
          if (!closed) {
            closed = true;
            socket.end(encodeFrame(OPCODE.close, frame.payload.subarray(0, 2)));
          }
          stream.push(null);
          return;
        default:
          // AMQP travels in binary frames only (RFC 6455 §7.4.1: 1003, unacceptable data).
          closed = true;
          socket.end(encodeFrame(OPCODE.close, Buffer.from([0x03, 0xeb])));
          stream.destroy(new Error(`unexpected WebSocket opcode ${frame.opcode}`));
          return;
      }
    }
  };
  socket.on('data', consume);
  socket.on('end', () => stream.push(null));
  socket.on('error', (error) => stream.destroy(error));
  socket.on('close', () => stream.destroy());
  if (pending.length > 0) {
    const first = pending;
    pending = Buffer.alloc(0);
    process.nextTick(() => consume(first));
  }
  return stream;
}

interface Frame {
  opcode: number;
  payload: Buffer;
  /** Bytes the frame took in the input. */
  length: number;
}

/** One frame from the start of `buffer`, unmasked; undefined until the whole frame has arrived. */
function decodeFrame(buffer: Buffer): Frame | undefined {
  if (buffer.length < 2) return undefined;
  const opcode = buffer[0]! & 0x0f;
  const masked = (buffer[1]! & 0x80) !== 0;
  let length = buffer[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) offset += 4;
  if (buffer.length < offset + length) return undefined;
  const payload = Buffer.from(buffer.subarray(offset, offset + length));
  if (masked) {
    for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ buffer[maskOffset + (i % 4)]!;
  }
  return { opcode, payload, length: offset + length };
}

/** A final, unmasked frame: a server never masks (RFC 6455 §5.1). */
function encodeFrame(opcode: number, payload: Buffer): Buffer {
  let header: Buffer;
  if (payload.length < 126) {
    header = Buffer.from([0x80 | opcode, payload.length]);
  } else if (payload.length < 0x10000) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  return Buffer.concat([header, payload]);
}
