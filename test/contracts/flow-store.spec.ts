import { afterAll, beforeEach, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { KeyNames } from '../../libs/redurable/src/store/keys.js';
import { RedisFlowStore } from '../../libs/redurable/src/store/flow-store.js';
import type { FlowLimitKey } from '../../libs/redurable/src/core/ports/index.js';
import { keysUnder, testRedis } from '../support/test-app.js';
import { until } from '../support/until.js';

/**
 * The flow control scripts' contract (issue 24), against a real Redis (and, in the `cluster`
 * project, a real Cluster, where each (limit, key) is its own hash tag): slots up to the limit,
 * waiters in order, idempotent calls (a lost reply repeated), lapsed holders and silent waiters
 * dropped, an exact rate window, and keys that disappear when unused.
 */
const redis = testRedis();
const prefix = `flow-contracts-${randomUUID().slice(0, 8)}`;
const keys = new KeyNames(prefix);
const flow = new RedisFlowStore(redis, keys);
let at: FlowLimitKey;

afterAll(async () => {
  await redis.quit();
});

beforeEach(() => {
  at = { name: 'charge', key: `acct-${randomUUID().slice(0, 8)}` };
});

describe('concurrency slots', () => {
  test('grants up to the limit, then queues waiters with how many are ahead', async () => {
    expect(await flow.acquire(at, 'a', { limit: 2, ttlMs: 30_000 })).toEqual({ granted: true });
    expect(await flow.acquire(at, 'b', { limit: 2, ttlMs: 30_000 })).toEqual({ granted: true });
    expect(await flow.acquire(at, 'c', { limit: 2, ttlMs: 30_000 })).toEqual({ granted: false, ahead: 0 });
    expect(await flow.acquire(at, 'd', { limit: 2, ttlMs: 30_000 })).toEqual({ granted: false, ahead: 1 });
    expect(await flow.usage(at)).toEqual({ running: 2, waiting: 2 });
    expect(await flow.position(at, 'a')).toEqual({ state: 'holding' });
    expect(await flow.position(at, 'd')).toEqual({ state: 'waiting', ahead: 1 });
    expect(await flow.position(at, 'z')).toEqual({ state: 'none' });
  });

  test('a repeated acquire (a lost reply) neither takes a second slot nor loses a waiter its place', async () => {
    await flow.acquire(at, 'a', { limit: 1, ttlMs: 30_000 });
    expect(await flow.acquire(at, 'a', { limit: 1, ttlMs: 30_000 })).toEqual({ granted: true });
    expect(await flow.usage(at)).toEqual({ running: 1, waiting: 0 });
    await flow.acquire(at, 'b', { limit: 1, ttlMs: 30_000 });
    await flow.acquire(at, 'c', { limit: 1, ttlMs: 30_000 });
    expect(await flow.acquire(at, 'b', { limit: 1, ttlMs: 30_000 })).toEqual({ granted: false, ahead: 0 });
  });

  test('a freed slot goes to the first waiter, not to a newcomer; release names the waiters to wake', async () => {
    await flow.acquire(at, 'a', { limit: 1, ttlMs: 30_000 });
    await flow.acquire(at, 'b', { limit: 1, ttlMs: 30_000 });
    await flow.acquire(at, 'c', { limit: 1, ttlMs: 30_000 });
    expect(await flow.release(at, 'a', 1)).toEqual({ released: true, wake: ['b'] });
    expect(await flow.release(at, 'a', 1)).toEqual({ released: false, wake: ['b'] }); // idempotent
    expect(await flow.acquire(at, 'newcomer', { limit: 1, ttlMs: 30_000 })).toEqual({ granted: false, ahead: 2 });
    expect(await flow.acquire(at, 'c', { limit: 1, ttlMs: 30_000 })).toEqual({ granted: false, ahead: 1 });
    expect(await flow.acquire(at, 'b', { limit: 1, ttlMs: 30_000 })).toEqual({ granted: true });
    expect(await flow.usage(at)).toEqual({ running: 1, waiting: 2 });
  });

  test('waiters are taken by priority, then arrival', async () => {
    await flow.acquire(at, 'a', { limit: 1, ttlMs: 30_000 });
    await flow.acquire(at, 'low', { limit: 1, ttlMs: 30_000, priority: 9 });
    await flow.acquire(at, 'normal', { limit: 1, ttlMs: 30_000 });
    await flow.acquire(at, 'urgent', { limit: 1, ttlMs: 30_000, priority: 1 });
    expect((await flow.release(at, 'a', 3)).wake).toEqual(['urgent', 'normal', 'low']);
  });

  test('a holder whose slot lapsed (its worker died) frees it for the next acquire; renew keeps it', async () => {
    await flow.acquire(at, 'dead', { limit: 1, ttlMs: 300 });
    await flow.acquire(at, 'alive', { limit: 1, ttlMs: 30_000 }); // waits
    expect(await flow.renew(at, 'dead', 300)).toBe(true);
    await until('the dead holder lapses', async () => {
      const r = await flow.acquire(at, 'alive', { limit: 1, ttlMs: 30_000 });
      return r.granted;
    });
    expect(await flow.renew(at, 'dead', 300)).toBe(false);
    expect(await flow.holders(at)).toEqual([{ holder: 'alive', expiresAt: expect.any(Number) }]);
  });

  test('a slot without a ttl never lapses, and keeps its keys', async () => {
    await flow.acquire(at, 'wf:1', { limit: 1 });
    expect(await flow.holders(at)).toEqual([{ holder: 'wf:1', expiresAt: Infinity }]);
    expect(await redis.pttl(keys.flowHolders(at.name, at.key))).toBe(-1);
    await flow.release(at, 'wf:1');
    await flow.acquire(at, 'act:1', { limit: 1, ttlMs: 1000 });
    const ttl = await redis.pttl(keys.flowHolders(at.name, at.key));
    expect(ttl).toBeGreaterThan(1000);
  });

  test('a waiter that stops asking is dropped, so it does not keep the slot it is next for', async () => {
    await flow.acquire(at, 'a', { limit: 1, ttlMs: 30_000 });
    await flow.acquire(at, 'gone', { limit: 1, ttlMs: 30_000, waiterTtlMs: 200 });
    await flow.acquire(at, 'patient', { limit: 1, ttlMs: 30_000 });
    await flow.release(at, 'a');
    await until('the silent waiter is dropped', async () => {
      const r = await flow.acquire(at, 'patient', { limit: 1, ttlMs: 30_000 });
      return r.granted;
    });
    expect(await flow.position(at, 'gone')).toEqual({ state: 'none' });
  });

  test('releasing a waiter takes it out of line', async () => {
    await flow.acquire(at, 'a', { limit: 1, ttlMs: 30_000 });
    await flow.acquire(at, 'b', { limit: 1, ttlMs: 30_000 });
    expect(await flow.release(at, 'b', 1)).toEqual({ released: true, wake: [] });
    expect(await flow.usage(at)).toEqual({ running: 1, waiting: 0 });
  });

  test('a long key or one with braces is hashed in the key name, on one hash tag', async () => {
    const long = { name: 'charge', key: `{tenant}-${'x'.repeat(300)}` };
    expect(await flow.acquire(long, 'a', { limit: 1, ttlMs: 30_000 })).toEqual({ granted: true });
    const written = await keysUnder(redis, prefix);
    const mine = written.filter((k) => k.includes('charge:#'));
    expect(mine.length).toBeGreaterThan(0);
    for (const k of mine) expect(k).toMatch(/^[^{}]*\{charge:#[\w-]{22}\}:[\w-]+$/);
  });
});

describe('usage per limit (the flow gauges)', () => {
  const sum = async (name: string) => (await flow.usageByLimit()).find((u) => u.limit === name);
  const indexed = (name: string) => redis.zrange(keys.flowIndexKeys(name), '0', '-1');

  test("sums every key's holders and waiters under the limit's name", async () => {
    const name = `metered-${randomUUID().slice(0, 8)}`;
    await flow.acquire({ name, key: 'k1' }, 'a', { limit: 1 });
    await flow.acquire({ name, key: 'k1' }, 'b', { limit: 1 });
    await flow.acquire({ name, key: 'k2' }, 'c', { limit: 2, ttlMs: 30_000 });
    await flow.acquire({ name, key: 'k3' }, 'd', { limit: 2, ttlMs: 1 });
    await until('d to lapse', async () => (await flow.usage({ name, key: 'k3' })).running === 0);
    expect(await sum(name)).toEqual({ limit: name, running: 2, waiting: 1 });
  });

  test('a key found empty that nobody wrote down for ten minutes leaves the index; its limit too, once it has no key', async () => {
    const name = `metered-${randomUUID().slice(0, 8)}`;
    for (const key of ['busy', 'idle', 'fresh']) await flow.acquire({ name, key }, 'a', { limit: 1, ttlMs: 30_000 });
    await flow.release({ name, key: 'idle' }, 'a');
    await flow.release({ name, key: 'fresh' }, 'a');
    // As if written down eleven minutes ago, except 'fresh'.
    const old = Date.now() - 11 * 60_000;
    await redis.zadd(keys.flowIndexKeys(name), 'XX', old, 'busy', old, 'idle');
    await redis.zadd(keys.flowIndexLimits(), 'XX', old, name);
    expect(await sum(name)).toEqual({ limit: name, running: 1, waiting: 0 });
    expect((await indexed(name)).sort()).toEqual(['busy', 'fresh']); // a key in use stays however old
    await flow.release({ name, key: 'busy' }, 'a');
    await redis.zadd(keys.flowIndexKeys(name), 'XX', old, 'fresh');
    expect(await sum(name)).toEqual({ limit: name, running: 0, waiting: 0 });
    expect(await indexed(name)).toEqual([]);
    expect(await sum(name)).toBeUndefined();
  });
});

describe('rate windows', () => {
  test('allows `limit` starts per period, exactly, then says when the next is allowed', async () => {
    const rate = { limit: 3, periodMs: 1000 };
    for (const h of ['a', 'b', 'c']) expect(await flow.takeRate(at, h, rate)).toEqual({ allowed: true });
    const refused = await flow.takeRate(at, 'd', rate);
    expect(refused.allowed).toBe(false);
    const retryAfterMs = (refused as { retryAfterMs: number }).retryAfterMs;
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(1000);
    // A repeated call (a lost reply) takes no second start.
    expect(await flow.takeRate(at, 'a', rate)).toEqual({ allowed: true });
    await until('the window moves on', async () => (await flow.takeRate(at, 'd', rate)).allowed);
    expect(await redis.pttl(keys.flowStarts(at.name, at.key))).toBeGreaterThan(0);
  });

  test('a smaller limit than the window holds (a redeploy) refuses until enough have left it', async () => {
    for (const h of ['a', 'b', 'c']) await flow.takeRate(at, h, { limit: 3, periodMs: 60_000 });
    const refused = await flow.takeRate(at, 'd', { limit: 1, periodMs: 60_000 });
    expect(refused).toEqual({ allowed: false, retryAfterMs: expect.any(Number) });
  });
});
