import type { FlowLimitKey, FlowLimitUsage } from '../core/ports/index.js';
import type { KeyNames } from './keys.js';
import type { ScriptRunner } from './lua/runner.js';
import type { RedisClient } from './redis-client.js';

/** A process writes down again a key it uses at most this often (and so within it of a drop that raced with it). */
const TOUCH_EVERY_MS = 60_000;
/** An entry whose key was empty at a look and that nobody wrote down for this long leaves the index. */
const FORGET_AFTER_MS = 10 * TOUCH_EVERY_MS;
/** A look reads at most this many keys of one limit (the most recently written down first), */
const MAX_KEYS_PER_LIMIT = 1000;
/** and at most this many in all, so that a scrape's cost is bounded however many keys there are. */
const MAX_KEYS = 10_000;
/** Keys read at once. */
const BATCH = 200;
/** A process remembers this many keys it wrote down; past it, it forgets them all (and writes again). */
const MAX_REMEMBERED = 10_000;

/**
 * The concurrency limits in use and their keys, for the gauges of running and waiting holders
 * per limit (`redurable_flow_running`, `redurable_flow_waiting`), read at a scrape.
 *
 * Why this way: each (limit, key)'s slots live under their own hash tag (a Cluster spreads busy
 * keys over its masters), so the slot scripts cannot also write a per-limit index (another hash
 * tag), and SCAN is no way to find them (slow, per node). Instead the store writes the key down
 * here next to every acquire (in parallel with the script, so no added wait), at most once a
 * minute per key and process: two sorted sets under one hash tag of their own, the limits'
 * names and each limit's keys, scored by when they were last written down. A look (a scrape)
 * sums the usage of each indexed key, and drops the keys it found empty that nobody wrote down
 * for ten minutes (a script that drops an entry only if it was not written again meanwhile), so
 * the index does not grow with every key ever used; a key in use is written down again within a
 * minute by whoever uses it, so it is never dropped for long, and a key that holds a workflow's
 * slot (never written down again) is never found empty while it does.
 */
export class FlowIndex {
  /** When this process last wrote each `name\0key` down. */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyNames,
    private readonly run: ScriptRunner,
  ) {}

  /** Writes down that the key is in use (skipped when this process did so lately). Never throws: a miss is made up at the next acquire. */
  async touch(at: FlowLimitKey): Promise<void> {
    const id = `${at.name}\0${at.key}`;
    const now = Date.now();
    if (now - (this.touched.get(id) ?? -Infinity) < TOUCH_EVERY_MS) return;
    if (this.touched.size >= MAX_REMEMBERED) this.touched.clear();
    this.touched.set(id, now);
    try {
      // GT: a process whose clock is behind never makes an entry look older than it is.
      await this.redis
        .multi()
        .zadd(this.keys.flowIndexLimits(), 'GT', now, at.name)
        .zadd(this.keys.flowIndexKeys(at.name), 'GT', now, at.key)
        .exec();
    } catch {
      this.touched.delete(id);
    }
  }

  /**
   * The holders and waiters of every indexed limit, summed over its keys (read with `usage`),
   * at most MAX_KEYS_PER_LIMIT keys of one limit and MAX_KEYS in all; drops the entries found
   * empty and untouched for FORGET_AFTER_MS.
   */
  async usageByLimit(
    usage: (at: FlowLimitKey) => Promise<{ running: number; waiting: number }>,
  ): Promise<FlowLimitUsage[]> {
    const now = Date.now();
    const cutoff = now - FORGET_AFTER_MS;
    const names = pairs(await this.redis.zrange(this.keys.flowIndexLimits(), '0', '-1', 'WITHSCORES'));
    const out: FlowLimitUsage[] = [];
    let budget = MAX_KEYS;
    for (const [name] of names) {
      const take = Math.min(MAX_KEYS_PER_LIMIT, budget);
      const entries =
        take > 0 ? pairs(await this.redis.zrevrange(this.keys.flowIndexKeys(name), 0, take - 1, 'WITHSCORES')) : [];
      budget -= entries.length;
      const total: FlowLimitUsage = { limit: name, running: 0, waiting: 0 };
      const drop: [string, number][] = [];
      for (let i = 0; i < entries.length; i += BATCH) {
        const batch = entries.slice(i, i + BATCH);
        const used = await Promise.all(batch.map(([key]) => usage({ name, key })));
        used.forEach((u, j) => {
          total.running += u.running;
          total.waiting += u.waiting;
          if (u.running + u.waiting === 0 && batch[j][1] < cutoff) drop.push(batch[j]);
        });
      }
      if (drop.length > 0 || (entries.length === 0 && take > 0))
        await this.run(
          'flowIndexPrune',
          { limits: this.keys.flowIndexLimits(), keys: this.keys.flowIndexKeys(name) },
          { name, cutoff, drop },
        );
      out.push(total);
    }
    return out;
  }
}

/** [member, score] pairs of a WITHSCORES reply. */
function pairs(flat: string[]): [string, number][] {
  const out: [string, number][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], Number(flat[i + 1])]);
  return out;
}
