import { createServer, connect, type Server, type Socket } from 'node:net';

interface Trap {
  match: (command: string) => boolean;
  resolve: () => void;
}

/**
 * A TCP proxy between Redis clients and a redis-server that can lose a reply the way a flaky
 * network does: it forwards a chosen command to Redis, lets Redis run it, drops the reply and
 * resets the client's connection. ioredis then reconnects and resends the command.
 */
export class FaultProxy {
  private readonly sockets = new Set<Socket>();
  private traps: Trap[] = [];
  /** How many replies were dropped so far. */
  dropped = 0;

  private constructor(
    private readonly server: Server,
    /** `redis://127.0.0.1:<port>` of the proxy. */
    readonly url: string,
  ) {}

  /** Listens on a free loopback port and forwards to `target`. */
  static async start(target: { host: string; port: number }): Promise<FaultProxy> {
    let proxy!: FaultProxy;
    const server = createServer((client) => proxy.pair(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no TCP address');
    proxy = new FaultProxy(server, `redis://127.0.0.1:${address.port}`);
    return proxy;
  }

  /**
   * The next command whose bytes (RESP, as text) satisfy `match` reaches Redis, but its reply
   * is dropped and the connection reset. Resolves once that happened.
   */
  dropReplyOnce(match: (command: string) => boolean): Promise<void> {
    return new Promise((resolve) => this.traps.push({ match, resolve }));
  }

  /** Resets every open connection (a network blip), without dropping a particular reply. */
  resetAll(): void {
    for (const s of this.sockets) s.resetAndDestroy();
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pair(client: Socket, target: { host: string; port: number }): void {
    const upstream = connect(target.port, target.host);
    this.sockets.add(client);
    this.sockets.add(upstream);
    let sprung: Trap | undefined;
    const closeBoth = () => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      if (!client.destroyed) client.destroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    client.on('data', (chunk: Buffer) => {
      if (!sprung) {
        const text = chunk.toString('latin1');
        const at = this.traps.findIndex((t) => t.match(text));
        if (at >= 0) [sprung] = this.traps.splice(at, 1);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!sprung) {
        client.write(chunk);
        return;
      }
      // The reply (or the start of it) is here, so Redis ran the command: lose the reply.
      const trap = sprung;
      upstream.pause();
      setTimeout(() => {
        this.dropped++;
        client.resetAndDestroy();
        upstream.destroy();
        trap.resolve();
      }, 20);
    });
  }
}

/** True when a RESP command (as text) is a script call (EVAL/EVALSHA) whose arguments contain `marker`. */
export function scriptCallWith(marker: string): (command: string) => boolean {
  return (command) => /\r\nEVAL(SHA)?\r\n/i.test(command) && command.includes(marker);
}
