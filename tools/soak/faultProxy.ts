import { once } from 'node:events';
import type { AddressInfo, Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';

/** What the proxy does with traffic: pass it, refuse it, or hold it. */
export type ProxyState = 'open' | 'cut' | 'blackHoled';

/** One client connection and, once connected, its upstream twin. */
class Link {
  upstream: Socket | undefined;

  constructor(
    readonly client: Socket,
    private readonly onClosed: (link: Link) => void,
  ) {
    watch(client, () => this.close());
  }

  connect(host: string, port: number): void {
    this.upstream = connect(port, host);
    watch(this.upstream, () => this.close());
    this.flow();
  }

  flow(): void {
    if (!this.upstream) return;
    this.client.pipe(this.upstream);
    this.upstream.pipe(this.client);
  }

  /** Stops moving bytes either way without closing anything: what a network partition looks like to both ends. */
  hold(): void {
    this.client.unpipe();
    this.upstream?.unpipe();
    this.client.pause();
    this.upstream?.pause();
  }

  /** A reset, not a clean close: a dead endpoint does not say goodbye. */
  reset(): void {
    if (!this.client.destroyed) this.client.resetAndDestroy();
    this.upstream?.destroy();
  }

  private close(): void {
    this.client.destroy();
    this.upstream?.destroy();
    this.onClosed(this);
  }
}

function watch(socket: Socket, onGone: () => void): void {
  socket.on('error', () => socket.destroy());
  socket.once('close', onGone);
}

/**
 * A TCP proxy on loopback in front of a real service, with the faults a network has: `cut` resets every open
 * connection and every new one (the listener stays up, so the port can never be taken by someone else), and
 * `blackHole` holds every byte in both directions, on open and new connections alike, until `restore` lets them
 * flow again — connections survive a short black hole, as TCP connections survive a short partition.
 */
export class FaultProxy {
  private server: Server | undefined;
  private readonly links = new Set<Link>();
  private state: ProxyState = 'open';
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  get current(): ProxyState {
    return this.state;
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  cut(): void {
    this.state = 'cut';
    for (const link of [...this.links]) link.reset();
  }

  blackHole(): void {
    this.state = 'blackHoled';
    for (const link of this.links) link.hold();
  }

  restore(): void {
    const wasBlackHoled = this.state === 'blackHoled';
    this.state = 'open';
    if (!wasBlackHoled) return;
    for (const link of this.links) {
      if (link.upstream) link.flow();
      else link.connect(this.targetHost, this.targetPort);
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const link of [...this.links]) link.reset();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  private accept(client: Socket): void {
    if (this.state === 'cut') {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const link = new Link(client, (closed) => this.links.delete(closed));
    this.links.add(link);
    // A connection made during a black hole is accepted and held; it reaches the service on restore.
    if (this.state === 'blackHoled') link.hold();
    else link.connect(this.targetHost, this.targetPort);
  }
}
