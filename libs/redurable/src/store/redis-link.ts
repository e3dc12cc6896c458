import type { Logger } from '../core/ports/index.js';
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './redis-client.js';
import { RedisConfigurationError, RedisUnavailableError } from '../core/errors/library.errors.js';

/**
 * The state of the library's main Redis connection, for failing fast: boot waits a bounded
 * time for it, client calls wait a bounded time for it (and for their reply), and a dropped
 * connection is logged once when it drops and once when it is back.
 */
export class RedisLink {
  private lastError?: Error;
  private everReady = false;
  private down = false;

  constructor(
    readonly redis: RedisClient,
    readonly endpoint: string,
    /** How long a client call waits for Redis (`connectTimeout`), and for a worker's answer to a query or update it asks for. */
    readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {
    redis.on('error', (err: Error) => (this.lastError = err));
    redis.on('end', () => [...this.waiting].forEach((w) => w.end()));
    redis.on('ready', () => {
      [...this.waiting].forEach((w) => w.ready());
      if (this.down) this.logger.log?.(`Reconnected to Redis at ${endpoint}`);
      this.everReady = true;
      this.down = false;
      this.lastError = undefined;
    });
    redis.on('close', () => {
      if (!this.everReady || this.down || redis.status === 'end') return;
      this.down = true;
      // The close event comes before the error that caused it: report on the next tick.
      setImmediate(() => {
        if (this.down)
          this.logger.warn?.(
            `Lost the connection to Redis at ${endpoint}${this.cause()}; reconnecting (workflow tasks and activities wait until it is back)`,
          );
      });
    });
  }

  /** Calls waiting for the connection; one pair of listeners serves them all, however many wait. */
  private readonly waiting = new Set<{ ready: () => void; end: () => void }>();

  /** Resolves once the connection is ready; rejects with RedisUnavailableError after the timeout. */
  async ready(doing: string): Promise<void> {
    if (this.redis.status === 'ready') return;
    if (this.redis.status === 'end')
      throw new RedisUnavailableError(
        this.endpoint,
        `Cannot ${doing}: the connection to Redis at ${this.endpoint} is closed (the app is shutting down)`,
      );
    await new Promise<void>((resolve, reject) => {
      const waiter = { ready: () => onReady(), end: () => onEnd() };
      const stop = () => {
        clearTimeout(timer);
        this.waiting.delete(waiter);
      };
      const timer = setTimeout(() => {
        stop();
        reject(
          new RedisUnavailableError(
            this.endpoint,
            `Cannot ${doing}: Redis at ${this.endpoint} is unreachable (waited ${this.timeoutMs} ms)${this.cause()}. ` +
              'Check that Redis runs and that `connection` points at it, or raise `connectTimeout`',
            this.lastError,
          ),
        );
      }, this.timeoutMs);
      const onReady = () => {
        stop();
        resolve();
      };
      const onEnd = () => {
        stop();
        reject(
          new RedisUnavailableError(
            this.endpoint,
            `Cannot ${doing}: the connection to Redis at ${this.endpoint} was closed`,
            this.lastError,
          ),
        );
      };
      this.waiting.add(waiter);
    });
  }

  /**
   * Runs a client call once the connection is ready, and rejects with RedisUnavailableError if
   * Redis leaves it without an answer for the timeout (its commands may still reach Redis once it
   * is back). A call that waits on something else between its commands (a schedule's lock held
   * by another process) calls `answered` each time Redis answers: the timeout counts from then.
   */
  async call<T>(doing: string, fn: (answered: () => void) => Promise<T>): Promise<T> {
    await this.ready(doing);
    let timer: NodeJS.Timeout | undefined;
    let fail: (err: Error) => void = () => undefined;
    const timeout = new Promise<never>((_, reject) => (fail = reject));
    let settled = false;
    const arm = () => {
      // A call that timed out may go on (a lock wait) and call this: no timer outlives the call.
      if (settled) return;
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          fail(
            new RedisUnavailableError(
              this.endpoint,
              `Cannot ${doing}: Redis at ${this.endpoint} did not answer within ${this.timeoutMs} ms${this.cause()}; ` +
                'the call may still take effect once Redis is back',
              this.lastError,
            ),
          ),
        this.timeoutMs,
      );
    };
    arm();
    try {
      return await Promise.race([fn(arm), timeout]);
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  /**
   * Boot checks: an evicting `maxmemory-policy` refuses to start (evicted keys lose workflows);
   * AOF off is one warning. Where CONFIG is not allowed (managed Redis) it says so and goes on.
   * On a Cluster every master is checked.
   */
  async checkSettings(): Promise<void> {
    const servers: { node: Redis; name: string }[] =
      this.redis instanceof Cluster
        ? this.redis.nodes('master').map((node) => ({ node, name: `${node.options.host}:${node.options.port}` }))
        : [{ node: this.redis, name: this.endpoint }];
    for (const { node, name } of servers) await this.checkServer(node, name);
  }

  private async checkServer(server: Redis, endpoint: string): Promise<void> {
    let policy: string | undefined;
    let aof: string | undefined;
    try {
      policy = configValue(await server.call('CONFIG', 'GET', 'maxmemory-policy'), 'maxmemory-policy');
      aof = configValue(await server.call('CONFIG', 'GET', 'appendonly'), 'appendonly');
    } catch (err) {
      this.logger.warn?.(
        `Could not check the settings of Redis at ${endpoint} (CONFIG GET: ${(err as Error).message}): ` +
          'make sure its maxmemory-policy is noeviction, or evicted keys will lose workflows',
      );
      return;
    }
    if (policy !== undefined && policy !== 'noeviction') {
      throw new RedisConfigurationError(
        `Redis at ${endpoint} has maxmemory-policy '${policy}': when it is full it evicts keys, and an evicted history loses its workflow. ` +
          'Set `maxmemory-policy noeviction` (redis.conf, or CONFIG SET maxmemory-policy noeviction)',
      );
    }
    if (aof === 'no') {
      this.logger.warn?.(
        `Redis at ${endpoint} runs without the append-only file: if Redis crashes or restarts, the workflows' progress since its last snapshot is lost. ` +
          'Turn on `appendonly yes` (appendfsync always loses nothing, everysec at most a second)',
      );
    }
  }

  private cause(): string {
    return this.lastError ? ` (${this.lastError.message})` : '';
  }
}

/** CONFIG GET's reply: a flat array (RESP2) or a map (RESP3), depending on the protocol. */
function configValue(reply: unknown, name: string): string | undefined {
  if (Array.isArray(reply)) return reply[1] === undefined ? undefined : String(reply[1]);
  if (reply instanceof Map) return reply.get(name) as string | undefined;
  if (reply && typeof reply === 'object') return (reply as Record<string, string>)[name];
  return undefined;
}
