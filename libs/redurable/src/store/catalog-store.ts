import { randomBytes } from 'node:crypto';
import type { PartitionRecords, RegisteredLimit, WorkflowCatalog, WorkflowTypeRecord } from '../core/ports/index.js';
import type { SearchAttributeDeclarations } from '../core/search/search-attributes.js';
import type { KeyNames } from './keys.js';
import { execAll } from './per-shard.js';
import type { RedisClient } from './redis-client.js';

/**
 * What a prefix records once for the whole app, each in a key of its own (outside the shards):
 * its key layout, the partition count of each task queue, and the workflow types and search
 * attribute declarations its workers registered.
 */
export class RedisCatalogStore implements WorkflowCatalog, PartitionRecords {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyNames,
  ) {}

  /** The prefix's task token secret, generated (random, 32 bytes) by the first process that asks. */
  async tokenSecret(): Promise<string> {
    await this.redis.set(this.keys.tokenSecret(), randomBytes(32).toString('base64url'), 'NX');
    return (await this.redis.get(this.keys.tokenSecret()))!;
  }

  /**
   * The layout recorded under the prefix (`<version>:<shards>`), recording `layout` first when
   * `record` and the prefix has none; null when none is recorded.
   */
  async layout(record?: string): Promise<string | null> {
    if (record !== undefined) await this.redis.set(this.keys.layout(), record, 'NX');
    return this.redis.get(this.keys.layout());
  }

  /**
   * Records partition counts of task queues that have none recorded; returns the recorded
   * count of each (which may differ from the one asked for).
   */
  async recordPartitions(counts: Record<string, number>): Promise<Record<string, number>> {
    const queues = Object.keys(counts);
    if (queues.length === 0) return {};
    const key = this.keys.partitions();
    const pipe = this.redis.pipeline();
    for (const q of queues) pipe.hsetnx(key, q, String(counts[q]));
    pipe.hmget(key, ...queues);
    const values = (await execAll(pipe))[queues.length] as string[];
    return Object.fromEntries(queues.map((q, i) => [q, Number(values[i])]));
  }

  /** The recorded partition count of a task queue, if any. */
  async recordedPartitions(taskQueue: string): Promise<number | undefined> {
    const value = await this.redis.hget(this.keys.partitions(), taskQueue);
    return value === null ? undefined : Number(value);
  }

  /**
   * Remembers the workflow types a worker serves (a client without the classes can then validate
   * a name, find its task queue and check search attributes). Three keys, in different slots on a
   * Cluster: written at once, not one after another.
   */
  async registerWorkflowTypes(types: WorkflowTypeRecord[]): Promise<void> {
    if (types.length === 0) return;
    const limited = types.filter((t) => t.concurrency);
    const unlimited = types.filter((t) => !t.concurrency).map((t) => t.name);
    await Promise.all([
      limited.length > 0 &&
        this.redis.hset(
          this.keys.workflowLimits(),
          ...limited.flatMap(({ name, concurrency: c }) => [
            name,
            JSON.stringify({ name: c!.name, limit: c!.limit, keyed: c!.key !== undefined } satisfies RegisteredLimit),
          ]),
        ),
      unlimited.length > 0 && this.redis.hdel(this.keys.workflowLimits(), ...unlimited),
      this.redis.sadd(this.keys.workflowTypes(), ...types.map((t) => t.name)),
      this.redis.hset(this.keys.workflowTaskQueues(), ...types.flatMap((t) => [t.name, t.taskQueue])),
      this.redis.hset(
        this.keys.searchAttributeDeclarations(),
        ...types.flatMap((t) => [t.name, JSON.stringify(t.searchAttributes)]),
      ),
    ]);
  }

  /** Whether some worker registered this workflow type name. */
  async isKnownWorkflowType(type: string): Promise<boolean> {
    return (await this.redis.sismember(this.keys.workflowTypes(), type)) === 1;
  }

  /** The type's task queue and concurrency limit as its workers registered them (sent together: one round trip). */
  async workflowRegistration(type: string): Promise<{ taskQueue?: string; limit?: RegisteredLimit }> {
    const [taskQueue, limit] = await Promise.all([
      this.redis.hget(this.keys.workflowTaskQueues(), type),
      this.redis.hget(this.keys.workflowLimits(), type),
    ]);
    return {
      ...(taskQueue !== null ? { taskQueue } : {}),
      ...(limit !== null ? { limit: JSON.parse(limit) as RegisteredLimit } : {}),
    };
  }

  /** Search attribute declarations workers registered, by workflow type. */
  async searchAttributeDeclarations(): Promise<Record<string, SearchAttributeDeclarations>> {
    const raw = await this.redis.hgetall(this.keys.searchAttributeDeclarations());
    return Object.fromEntries(
      Object.entries(raw).map(([type, json]) => [type, JSON.parse(json) as SearchAttributeDeclarations]),
    );
  }
}
