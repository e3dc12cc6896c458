import type {
  FlowAcquire,
  FlowAcquireResult,
  FlowControl,
  FlowLimitKey,
  FlowLimitUsage,
  FlowPosition,
  FlowRateResult,
  FlowReleaseResult,
} from '../core/ports/index.js';
import { FlowIndex } from './flow-index.js';
import type { KeyNames } from './keys.js';
import { defineScripts, type ScriptRunner } from './lua/runner.js';
import type { RedisClient } from './redis-client.js';

/** A pipeline's replies, or its first error. */
function replies(results: [Error | null, unknown][] | null): unknown[] {
  return (results ?? []).map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** The priority of a waiter that names none (1 first … 10 last). */
const DEFAULT_PRIORITY = 5;
/** An unused limit key disappears this long after its last write (a key whose holders never lapse is kept). */
const DEFAULT_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Flow control on Redis (issue 24): each (limit name, key) has its own keys under its own hash
 * tag (see KeyNames.flowHolders), written by one script per operation (lua/flow*.lua), so every
 * call is atomic and Cluster-legal. Concurrency: sorted sets of holders (by expiry) and waiters
 * (by priority, then arrival). Rate: a sorted set of the starts of the last period, exact over
 * any window (a GCRA cell could not tell a repeated call from a new one; this can, per holder).
 */
export class RedisFlowStore implements FlowControl {
  private readonly run: ScriptRunner;
  /** The limits and keys in use, for usageByLimit (a key is written down there by acquire). */
  private readonly index: FlowIndex;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyNames,
    private readonly keyTtlMs: number = DEFAULT_KEY_TTL_MS,
  ) {
    this.run = defineScripts(redis);
    this.index = new FlowIndex(redis, keys, this.run);
  }

  private slotKeys(at: FlowLimitKey) {
    return {
      holders: this.keys.flowHolders(at.name, at.key),
      waiters: this.keys.flowWaiters(at.name, at.key),
      deadlines: this.keys.flowWaiterDeadlines(at.name, at.key),
    };
  }

  async acquire(at: FlowLimitKey, holder: string, o: FlowAcquire): Promise<FlowAcquireResult> {
    // The key is written down in the index (another hash tag) at the same time: no added wait.
    const [res] = await Promise.all([this.acquireSlot(at, holder, o), this.index.touch(at)]);
    return res;
  }

  private acquireSlot(at: FlowLimitKey, holder: string, o: FlowAcquire): Promise<FlowAcquireResult> {
    return this.run('flowAcquire', this.slotKeys(at), {
      holder,
      limit: o.limit,
      ttl: o.ttlMs,
      priority: o.priority ?? DEFAULT_PRIORITY,
      waiterTtl: o.waiterTtlMs,
      keyTtl: Math.max(this.keyTtlMs, 2 * (o.ttlMs ?? 0), 2 * (o.waiterTtlMs ?? 0)),
    });
  }

  release(at: FlowLimitKey, holder: string, limit?: number): Promise<FlowReleaseResult> {
    return this.run('flowRelease', this.slotKeys(at), { holder, limit, keyTtl: this.keyTtlMs });
  }

  renew(at: FlowLimitKey, holder: string, ttlMs: number): Promise<boolean> {
    return this.run('flowRenew', this.slotKeys(at), {
      holder,
      ttl: ttlMs,
      keyTtl: Math.max(this.keyTtlMs, 2 * ttlMs),
    });
  }

  takeRate(at: FlowLimitKey, holder: string, rate: { limit: number; periodMs: number }): Promise<FlowRateResult> {
    return this.run(
      'flowRate',
      { starts: this.keys.flowStarts(at.name, at.key) },
      { holder, limit: rate.limit, period: rate.periodMs },
    );
  }

  async position(at: FlowLimitKey, holder: string): Promise<FlowPosition> {
    const { holders, waiters } = this.slotKeys(at);
    // One key's sorted sets share a hash tag: the pipeline is one node's, on a Cluster too.
    const [expiry, rank] = replies(await this.redis.pipeline().zscore(holders, holder).zrank(waiters, holder).exec());
    if (expiry !== null && Number(expiry) > Date.now()) return { state: 'holding' };
    if (rank !== null) return { state: 'waiting', ahead: Number(rank) };
    return { state: 'none' };
  }

  async usage(at: FlowLimitKey): Promise<{ running: number; waiting: number }> {
    const { holders, waiters } = this.slotKeys(at);
    const [running, waiting] = replies(
      await this.redis.pipeline().zcount(holders, `(${Date.now()}`, '+inf').zcard(waiters).exec(),
    );
    return { running: Number(running), waiting: Number(waiting) };
  }

  usageByLimit(): Promise<FlowLimitUsage[]> {
    return this.index.usageByLimit((at) => this.usage(at));
  }

  async holders(at: FlowLimitKey): Promise<{ holder: string; expiresAt: number }[]> {
    const flat = await this.redis.zrange(this.slotKeys(at).holders, '0', '-1', 'WITHSCORES');
    const out: { holder: string; expiresAt: number }[] = [];
    for (let i = 0; i < flat.length; i += 2)
      out.push({ holder: flat[i], expiresAt: flat[i + 1] === 'inf' ? Infinity : Number(flat[i + 1]) });
    return out;
  }
}
