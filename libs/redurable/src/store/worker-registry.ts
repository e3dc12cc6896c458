import type { KeyNames } from './keys.js';
import type { RedisClient } from './redis-client.js';

/** A worker process as it registers itself. */
export interface WorkerRecord {
  id: string;
  /** Its module option `buildId`, if set. */
  build?: string;
  host: string;
  pid: number;
  taskQueues: string[];
  /** The workflow types it registers, by task queue (the types whose tasks it can run there). */
  workflowTypes?: Record<string, string[]>;
  /** When it started (ms). */
  since: number;
  /** Task queues where a newer build's workers take new runs: this one takes only the runs pinned to its build there. */
  superseded?: string[];
}

/** A worker record left this long after its last heartbeat is dropped. */
const FORGET_AFTER_MS = 60 * 60 * 1000;

/**
 * The worker processes of a prefix and the builds they run: each worker beats while it runs
 * (its record, and until when it counts as live) and leaves when it stops; a SIGKILLed one stops
 * counting once its last beat runs out. Read by `redurable build list`.
 */
export class WorkerRegistry {
  /** Builds this process knows are recorded (their first-seen time is never rewritten). */
  private readonly recorded = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyNames,
  ) {}

  /**
   * Records `worker` as live for `ttlMs` more. A build is remembered with the time its first
   * worker came up, by Redis' clock (hosts' clocks may differ), and keeps it: a build rolled out
   * again later (a rollback) is not the newest while a newer one has live workers.
   */
  async beat(worker: WorkerRecord, ttlMs: number): Promise<void> {
    const now = Date.now();
    const build = worker.build;
    const firstSeen =
      build !== undefined && !this.recorded.has(build) && !(await this.redis.hexists(this.keys.builds(), build));
    const [seconds, micros] = firstSeen ? await this.redis.time() : [0, 0];
    const [, , , gone] = await Promise.all([
      this.redis.hset(this.keys.workers(), worker.id, JSON.stringify(worker)),
      this.redis.zadd(this.keys.liveWorkers(), now + ttlMs, worker.id),
      firstSeen &&
        this.redis.hsetnx(
          this.keys.builds(),
          build,
          String(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)),
        ),
      // Records of workers long gone leave (a crashed one never said goodbye).
      this.redis.zrangebyscore(this.keys.liveWorkers(), '-inf', String(now - FORGET_AFTER_MS)),
    ]);
    if (build !== undefined) this.recorded.add(build);
    if (gone.length > 0) await this.forget(gone);
  }

  /** A worker that stops says so at once. */
  async leave(id: string): Promise<void> {
    await this.forget([id]);
  }

  /** The workers live now. */
  async live(): Promise<WorkerRecord[]> {
    const ids = await this.redis.zrangebyscore(this.keys.liveWorkers(), String(Date.now()), '+inf');
    if (ids.length === 0) return [];
    const records = await this.redis.hmget(this.keys.workers(), ...ids);
    return records.flatMap((r) => (r ? [JSON.parse(r) as WorkerRecord] : []));
  }

  /** Every build a worker ever registered, with when it was first seen (ms). */
  async builds(): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(this.keys.builds());
    return Object.fromEntries(Object.entries(raw).map(([build, at]) => [build, Number(at)]));
  }

  private async forget(ids: string[]): Promise<void> {
    await Promise.all([this.redis.hdel(this.keys.workers(), ...ids), this.redis.zrem(this.keys.liveWorkers(), ...ids)]);
  }
}
