import { randomUUID } from 'node:crypto';
import type { ScheduleActionRecord } from '../core/schedules/schedule-options.js';
import {
  RECENT_ACTIONS,
  type ScheduleHold,
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
 * the schedule's lock (see `lock`), and each write checks it in the same script, so a
 * read-modify-write of the state never interleaves.
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
   * Lists the id, then writes definition and state (create, update) while `owner` holds the
   * lock: a crash between leaves a listed id without a record, which listing skips and a new
   * create takes, rather than a record nobody lists.
   */
  async write(scheduleId: string, record: ScheduleRecord, owner: string): Promise<boolean> {
    await this.redis.sadd(this.keys.scheduleIndex(), scheduleId);
    return this.writeLocked(scheduleId, owner, record.state, [], JSON.stringify(record.def));
  }

  /** Writes the state and, atomically with it, the actions it took (newest last), while `owner` holds the lock. */
  async writeState(
    scheduleId: string,
    state: ScheduleState,
    actions: ScheduleActionRecord[],
    owner: string,
  ): Promise<boolean> {
    return this.writeLocked(scheduleId, owner, state, actions);
  }

  private writeLocked(
    scheduleId: string,
    owner: string,
    state: ScheduleState,
    actions: ScheduleActionRecord[],
    def?: string,
  ): Promise<boolean> {
    const stored: StoredAction[] = actions.map((a) => ({ ...a, fireTime: a.fireTime.getTime(), at: a.at.getTime() }));
    return this.run(
      'scheduleWrite',
      {
        lock: this.keys.scheduleLock(scheduleId),
        state: this.keys.scheduleState(scheduleId),
        actions: this.keys.scheduleActions(scheduleId),
      },
      {
        workflowId: '',
        idx: '',
        owner,
        writeId: randomUUID(),
        state: JSON.stringify(state),
        ...(def !== undefined ? { def } : {}),
        keep: RECENT_ACTIONS,
      },
      stored.map((a) => JSON.stringify(a)),
    );
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

  /** Takes (or renews) the schedule's lock for `ttlMs`; false when another owner holds it. */
  async lock(scheduleId: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.lockOp(scheduleId, 'take', owner, ttlMs);
  }

  /** Extends this owner's lock to `ttlMs` from now; false when it is gone or another's. */
  async renewLock(scheduleId: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.lockOp(scheduleId, 'renew', owner, ttlMs);
  }

  /** Gives back this owner's lock of the schedule (another owner's is left alone). */
  async unlock(scheduleId: string, owner: string): Promise<void> {
    await this.lockOp(scheduleId, 'release', owner);
  }

  async lockHolder(scheduleId: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.scheduleLock(scheduleId))) ?? undefined;
  }

  async hold(scheduleId: string, owner: string, ttlMs: number): Promise<void> {
    await this.run(
      'scheduleHolds',
      { holds: this.keys.scheduleHolds() },
      { workflowId: '', idx: '', op: 'hold', member: `${scheduleId}:${owner}`, ttl: ttlMs },
    );
  }

  async unhold(scheduleId: string, owner: string): Promise<void> {
    await this.redis.zrem(this.keys.scheduleHolds(), `${scheduleId}:${owner}`);
  }

  async lapsedHolds(limit: number): Promise<ScheduleHold[]> {
    const members = await this.run(
      'scheduleHolds',
      { holds: this.keys.scheduleHolds() },
      { workflowId: '', idx: '', op: 'due', limit },
    );
    // Schedule ids hold no ':' (see schedule-definition.ts): the first one ends the id.
    return members.map((m) => ({ scheduleId: m.slice(0, m.indexOf(':')), owner: m.slice(m.indexOf(':') + 1) }));
  }

  private lockOp(scheduleId: string, op: 'take' | 'renew' | 'release', owner: string, ttl?: number): Promise<boolean> {
    return this.run(
      'scheduleLock',
      { lock: this.keys.scheduleLock(scheduleId) },
      { workflowId: '', idx: '', op, owner, ...(ttl !== undefined ? { ttl } : {}) },
    );
  }
}
