import type { ScheduleActionRecord } from '../core/schedules/schedule-options.js';
import {
  RECENT_ACTIONS,
  type ScheduleRecord,
  type ScheduleRecords,
  type ScheduleState,
  type StoredDefinition,
} from '../core/ports/index.js';
import type { KeyNames } from './keys.js';
import { defineScripts, type ScriptRunner } from './lua/runner.js';
import type { RedisClient } from './redis-client.js';

/** An action as stored (dates as ms). */
type StoredAction = Omit<ScheduleActionRecord, 'fireTime' | 'at'> & { fireTime: number; at: number };

/**
 * The Redis boundary of schedules: every schedule key is read and written here. Writers hold
 * the schedule's lock (see `lock`), so a read-modify-write of the state never interleaves.
 */
export class ScheduleStore implements ScheduleRecords {
  private readonly run: ScriptRunner;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyNames,
  ) {
    this.run = defineScripts(redis);
  }

  async read(scheduleId: string): Promise<ScheduleRecord | undefined> {
    const [def, state] = await this.redis.hmget(this.keys.scheduleState(scheduleId), 'def', 'state');
    if (!def || !state) return undefined;
    return { def: JSON.parse(def) as StoredDefinition, state: JSON.parse(state) as ScheduleState };
  }

  /** Many records, one command each (a Cluster spreads them; ids without a record are undefined). */
  async readMany(scheduleIds: string[]): Promise<(ScheduleRecord | undefined)[]> {
    return Promise.all(scheduleIds.map((id) => this.read(id)));
  }

  /**
   * Lists the id, then writes definition and state (create, update): a crash between leaves a
   * listed id without a record, which listing skips and a new create takes, rather than a
   * record nobody lists.
   */
  async write(scheduleId: string, record: ScheduleRecord): Promise<void> {
    await this.redis.sadd(this.keys.scheduleIndex(), scheduleId);
    await this.redis.hset(
      this.keys.scheduleState(scheduleId),
      'def',
      JSON.stringify(record.def),
      'state',
      JSON.stringify(record.state),
    );
  }

  /** Writes the state and, atomically with it, the actions it took (newest last in `actions`). */
  async writeState(scheduleId: string, state: ScheduleState, actions: ScheduleActionRecord[] = []): Promise<void> {
    const multi = this.redis.multi().hset(this.keys.scheduleState(scheduleId), 'state', JSON.stringify(state));
    if (actions.length > 0) {
      const stored: StoredAction[] = actions.map((a) => ({ ...a, fireTime: a.fireTime.getTime(), at: a.at.getTime() }));
      multi.lpush(this.keys.scheduleActions(scheduleId), ...stored.map((a) => JSON.stringify(a)));
      multi.ltrim(this.keys.scheduleActions(scheduleId), 0, RECENT_ACTIONS - 1);
    }
    const res = await multi.exec();
    for (const [err] of res ?? []) if (err) throw err;
  }

  async recentActions(scheduleId: string, limit = RECENT_ACTIONS): Promise<ScheduleActionRecord[]> {
    const raw = await this.redis.lrange(this.keys.scheduleActions(scheduleId), 0, limit - 1);
    return raw.map((r) => {
      const a = JSON.parse(r) as StoredAction;
      return { ...a, fireTime: new Date(a.fireTime), at: new Date(a.at) };
    });
  }

  /** Drops the schedule's keys, then unlists it (the same order as `write`: a half-done delete is a listed id without a record). */
  async delete(scheduleId: string): Promise<void> {
    await this.redis.del(this.keys.scheduleState(scheduleId), this.keys.scheduleActions(scheduleId));
    await this.redis.srem(this.keys.scheduleIndex(), scheduleId);
  }

  async ids(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.scheduleIndex())).sort();
  }

  /**
   * Takes (or renews) the schedule's lock for `ttlMs`; false when another owner holds it. The
   * sweep's claim script is exactly this lock (owner, ttl, release).
   */
  async lock(scheduleId: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.claim(scheduleId, owner, ttlMs, false);
  }

  /** Gives back this owner's lock of the schedule (another owner's is left alone). */
  async unlock(scheduleId: string, owner: string): Promise<void> {
    await this.claim(scheduleId, owner, 0, true);
  }

  private claim(scheduleId: string, owner: string, ttlMs: number, release: boolean): Promise<boolean> {
    return this.run(
      'sweepClaim',
      { lock: this.keys.scheduleLock(scheduleId) },
      { workflowId: '', idx: '', owner, ttl: ttlMs, release },
    );
  }
}
