import type {
  ScheduleHold,
  ScheduleRecord,
  ScheduleRecords,
  ScheduleState,
} from '../../../libs/redurable/src/core/ports/index.js';
import type { ScheduleActionRecord } from '../../../libs/redurable/src/core/schedules/schedule-options.js';

/**
 * ScheduleStore in memory: records, recent actions (newest first), the lock (no expiry: a
 * test's pass ends) and the holds, with scheduleWrite.lua's rule that only the lock's owner writes.
 */
export class MemorySchedules implements ScheduleRecords {
  readonly records = new Map<string, ScheduleRecord>();
  readonly actions = new Map<string, ScheduleActionRecord[]>();
  readonly locks = new Map<string, string>();
  readonly holds = new Set<string>();

  async read(scheduleId: string): Promise<ScheduleRecord | undefined> {
    const rec = this.records.get(scheduleId);
    return rec && structuredClone(rec);
  }

  async readMany(scheduleIds: string[]): Promise<(ScheduleRecord | undefined)[]> {
    return Promise.all(scheduleIds.map((id) => this.read(id)));
  }

  async write(scheduleId: string, record: ScheduleRecord, owner: string): Promise<boolean> {
    if (this.locks.get(scheduleId) !== owner) return false;
    this.records.set(scheduleId, structuredClone(record));
    return true;
  }

  async writeState(
    scheduleId: string,
    state: ScheduleState,
    actions: ScheduleActionRecord[],
    owner: string,
  ): Promise<boolean> {
    const rec = this.records.get(scheduleId);
    if (this.locks.get(scheduleId) !== owner || !rec) return false;
    rec.state = structuredClone(state);
    this.actions.set(scheduleId, [...[...actions].reverse(), ...(this.actions.get(scheduleId) ?? [])]);
    return true;
  }

  async recentActions(scheduleId: string): Promise<ScheduleActionRecord[]> {
    return this.actions.get(scheduleId) ?? [];
  }

  async delete(scheduleId: string): Promise<void> {
    this.records.delete(scheduleId);
    this.actions.delete(scheduleId);
  }

  async ids(): Promise<string[]> {
    return [...this.records.keys()].sort();
  }

  async lock(scheduleId: string, owner: string): Promise<boolean> {
    const holder = this.locks.get(scheduleId);
    if (holder !== undefined && holder !== owner) return false;
    this.locks.set(scheduleId, owner);
    return true;
  }

  async renewLock(scheduleId: string, owner: string): Promise<boolean> {
    return this.locks.get(scheduleId) === owner;
  }

  async unlock(scheduleId: string, owner: string): Promise<void> {
    if (this.locks.get(scheduleId) === owner) this.locks.delete(scheduleId);
  }

  async lockHolder(scheduleId: string): Promise<string | undefined> {
    return this.locks.get(scheduleId);
  }

  async hold(scheduleId: string, owner: string): Promise<void> {
    this.holds.add(`${scheduleId}:${owner}`);
  }

  async unhold(scheduleId: string, owner: string): Promise<void> {
    this.holds.delete(`${scheduleId}:${owner}`);
  }

  async lapsedHolds(): Promise<ScheduleHold[]> {
    return [];
  }
}
