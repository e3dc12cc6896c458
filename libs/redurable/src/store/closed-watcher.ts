import { duplicateClient, type RedisClient } from './redis-client.js';

/** How often waiters re-read anyway, in case a close was published while the subscription moved (a Cluster failover). */
const RECHECK_MS = 15_000;

/**
 * Wakes `result()` callers when a workflow closes, through one pub/sub connection per
 * process. Callers re-read the meta hash after subscribing, so a close between their read
 * and the subscription is never missed.
 */
export class ClosedWatcher {
  private subscriber?: RedisClient;
  private recheck?: NodeJS.Timeout;
  private ready?: Promise<void>;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly connection: RedisClient,
    private readonly channel: string,
  ) {}

  /** Resolves once subscribed; the returned function stops waiting. */
  async watch(workflowId: string, onClosed: () => void): Promise<() => void> {
    await this.subscribe();
    let set = this.waiters.get(workflowId);
    if (!set) this.waiters.set(workflowId, (set = new Set()));
    set.add(onClosed);
    return () => {
      set!.delete(onClosed);
      if (set!.size === 0) this.waiters.delete(workflowId);
    };
  }

  private subscribe(): Promise<void> {
    if (!this.ready) {
      const sub = duplicateClient(this.connection);
      this.subscriber = sub;
      sub.on('error', () => undefined);
      sub.on('message', (_channel: string, workflowId: string) => {
        for (const fn of [...(this.waiters.get(workflowId) ?? [])]) fn();
      });
      // A close published while this connection was down was missed: every waiter re-reads.
      let connectedOnce = false;
      sub.on('ready', () => {
        if (connectedOnce) for (const set of [...this.waiters.values()]) for (const fn of [...set]) fn();
        connectedOnce = true;
      });
      this.ready = sub.subscribe(this.channel).then(() => undefined);
      this.recheck = setInterval(() => {
        for (const set of [...this.waiters.values()]) for (const fn of [...set]) fn();
      }, RECHECK_MS);
      this.recheck.unref();
    }
    return this.ready!;
  }

  /** Drops the subscription without waiting for Redis. */
  disconnect(): void {
    this.waiters.clear();
    clearInterval(this.recheck);
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.ready = undefined;
  }

  async close(): Promise<void> {
    this.waiters.clear();
    clearInterval(this.recheck);
    if (this.subscriber) await this.subscriber.quit().catch(() => this.subscriber?.disconnect());
    this.subscriber = undefined;
    this.ready = undefined;
  }
}
