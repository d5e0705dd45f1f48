import type { AddressInfo, Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { once } from 'node:events';

/**
 * A TCP proxy that adds a fixed round trip to every exchange: each chunk waits half of `roundTripMs` in each
 * direction, in order (timers of one delay fire in the order they were set). A local stand-in for the network
 * between an Azure region's compute and its Service Bus or Storage.
 */
export class DelayProxy {
  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly port: number,
  ) {}

  static async start(targetPort: number, roundTripMs: number, targetHost = '127.0.0.1'): Promise<DelayProxy> {
    const oneWayMs = roundTripMs / 2;
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.setNoDelay(true);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      const relay = (from: Socket, to: Socket) => {
        from.on('data', (chunk: Buffer) => setTimeout(() => to.write(chunk), oneWayMs));
        from.on('end', () => setTimeout(() => to.end(), oneWayMs));
      };
      relay(client, upstream);
      relay(upstream, client);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return new DelayProxy(server, sockets, (server.address() as AddressInfo).port);
  }

  async close(): Promise<void> {
    this.sockets.forEach((socket) => socket.destroy());
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
