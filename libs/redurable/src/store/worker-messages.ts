import { randomUUID } from 'node:crypto';
import type { KeyNames } from './keys.js';
import { duplicateClient, type RedisClient } from './redis-client.js';

/** How long one blocking wait for messages lasts before the worker waits again (and notices a closed connection). */
const BLOCK_SECONDS = 5;
/** Messages one process answers at once; more wait in Redis for it (or another worker). */
const MAX_IN_FLIGHT = 16;

/** What a caller waits on: the worker's answer to one message. */
export interface AwaitedReply {
  reply: Promise<string>;
  /** Stops waiting (the answer, if it comes, is dropped). */
  stop(): void;
}

/**
 * The Redis side of queries and updates that a process without the workflow's class asks a
 * worker for. A message goes on a list per task queue (`KeyNames.workerMessages`); workers
 * serving the task queue wait on their lists with BRPOP on a connection of their own, one
 * process taking each message; the answer comes back on the asking process's own pub/sub
 * channel, tagged with the message id. Who had a message is decided by one claim key (SET NX):
 * a worker claims it `taken` before answering, a caller that stops waiting claims it
 * `withdrawn` (and removes it from the list); the first claim wins, so a message is answered at
 * most once, and a caller told that no worker took it can rely on it.
 */
export class WorkerMessages {
  /** This process's reply channel. */
  readonly replyChannel: string;
  private subscriber?: RedisClient;
  private subscribed?: Promise<void>;
  private readonly waiters = new Map<string, (reply: string) => void>();
  private blocking?: RedisClient;
  private serving?: Promise<void>;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyNames,
  ) {
    this.replyChannel = keys.workerReplies(randomUUID());
  }

  /** Starts waiting for the answer to message `id` (subscribing this process's reply channel first). */
  async expect(id: string): Promise<AwaitedReply> {
    await this.subscribe();
    let resolve!: (reply: string) => void;
    const reply = new Promise<string>((r) => (resolve = r));
    this.waiters.set(id, resolve);
    return { reply, stop: () => this.waiters.delete(id) };
  }

  /** Puts a message on a task queue's list, for a worker serving it. */
  async send(taskQueue: string, message: string): Promise<void> {
    await this.redis.lpush(this.keys.workerMessages(taskQueue), message);
  }

  /**
   * Takes message `id` back: true when no worker took it (and none will), false when one had.
   * The claim decides, not the list: a push resent after a lost reply leaves a second copy, which
   * the claim makes harmless, whichever copy a worker pops.
   */
  async withdraw(taskQueue: string, id: string, message: string, ttlMs: number): Promise<boolean> {
    const withdrawn = await this.claim(id, 'withdrawn', ttlMs);
    await this.redis.lrem(this.keys.workerMessages(taskQueue), 0, message);
    return withdrawn;
  }

  /** A worker's claim on message `id` before answering it: false when its sender withdrew it, or another copy was taken. */
  taken(id: string, ttlMs: number): Promise<boolean> {
    return this.claim(id, 'taken', ttlMs);
  }

  private async claim(id: string, as: 'taken' | 'withdrawn', ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.workerMessageClaim(id), as, 'PX', Math.max(1, ttlMs), 'NX')) === 'OK';
  }

  /** Answers message `id` on the channel its sender named. */
  async answer(channel: string, id: string, reply: string): Promise<void> {
    await this.redis.publish(channel, `${id} ${reply}`);
  }

  /**
   * Takes the messages of `taskQueues` as they come (at most MAX_IN_FLIGHT at once) and hands
   * each to `handle`, until `close()`. Errors of the connection go to `onError`, once per outage.
   */
  serve(taskQueues: string[], handle: (message: string) => Promise<void>, onError: (err: Error) => void): void {
    if (taskQueues.length === 0 || this.blocking) return;
    const blocking = (this.blocking = duplicateClient(this.redis));
    blocking.on('error', () => undefined);
    const lists = taskQueues.map((q) => this.keys.workerMessages(q));
    this.serving = this.loop(blocking, lists, handle, onError);
  }

  private async loop(
    blocking: RedisClient,
    lists: string[],
    handle: (message: string) => Promise<void>,
    onError: (err: Error) => void,
  ): Promise<void> {
    let failing = false;
    while (!this.stopped) {
      while (this.inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.inFlight);
      let popped: [string, string] | null;
      try {
        popped = await blocking.brpop(...lists, BLOCK_SECONDS);
        failing = false;
      } catch (err) {
        if (this.stopped) return;
        if (!failing) onError(err as Error);
        failing = true;
        await new Promise((r) => setTimeout(r, 1000).unref());
        continue;
      }
      if (!popped) continue;
      const work: Promise<void> = handle(popped[1])
        .catch((err: Error) => onError(err))
        .finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
    }
  }

  private subscribe(): Promise<void> {
    if (!this.subscribed) {
      const sub = duplicateClient(this.redis);
      this.subscriber = sub;
      sub.on('error', () => undefined);
      sub.on('message', (_channel: string, message: string) => {
        const at = message.indexOf(' ');
        const id = message.slice(0, at);
        const waiter = this.waiters.get(id);
        if (!waiter) return; // the caller gave up: nobody waits for this answer
        this.waiters.delete(id);
        waiter(message.slice(at + 1));
      });
      this.subscribed = sub.subscribe(this.replyChannel).then(
        () => undefined,
        (err: Error) => {
          // The next call subscribes again.
          this.subscribed = undefined;
          sub.disconnect();
          throw err;
        },
      );
    }
    return this.subscribed;
  }

  /** Stops taking messages, waits for those being answered, and closes the connections. */
  async close(): Promise<void> {
    this.stopped = true;
    // A message popped while the connection drops is lost: its sender gets NoWorkerAnsweredError (taken).
    this.blocking?.disconnect();
    await this.serving;
    await Promise.all(this.inFlight);
    this.waiters.clear();
    if (this.subscriber) await this.subscriber.quit().catch(() => this.subscriber?.disconnect());
    this.subscriber = undefined;
    this.subscribed = undefined;
  }

  /** Drops every connection without waiting. */
  disconnect(): void {
    this.stopped = true;
    this.blocking?.disconnect();
    this.waiters.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.subscribed = undefined;
  }
}
