import type { ChainableCommander } from 'ioredis';
import type { KeyNames } from './keys.js';
import type { RedisClient } from './redis-client.js';

/** Runs a pipeline and returns its replies, throwing the first command's error (a pipeline does not). */
export async function execAll(pipe: ChainableCommander): Promise<unknown[]> {
  const res = (await pipe.exec()) ?? [];
  for (const [err] of res) if (err) throw err;
  return res.map(([, value]) => value);
}

/**
 * Runs one command per workflow id, pipelined per shard (a Cluster pipeline must stay on one
 * node), and returns the replies in the ids' order; with `lenient`, a failed command's reply
 * is undefined instead of an error.
 */
export async function perShard(
  redis: RedisClient,
  keys: KeyNames,
  ids: string[],
  add: (pipe: ChainableCommander, id: string, i: number) => void,
  lenient = false,
): Promise<unknown[]> {
  const groups = new Map<number, number[]>();
  ids.forEach((id, i) => {
    const shard = keys.shardOf(id);
    groups.set(shard, [...(groups.get(shard) ?? []), i]);
  });
  const out: unknown[] = new Array(ids.length);
  await Promise.all(
    [...groups.values()].map(async (positions) => {
      const pipe = redis.pipeline();
      for (const i of positions) add(pipe, ids[i], i);
      const res = (await pipe.exec()) ?? [];
      positions.forEach((i, j) => {
        const [err, value] = res[j] ?? [];
        if (err && !lenient) throw err;
        out[i] = err ? undefined : value;
      });
    }),
  );
  return out;
}
