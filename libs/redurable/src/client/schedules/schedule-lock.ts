import { randomUUID } from 'node:crypto';
import { crashPoint } from '../../core/crash-points.js';
import type { Logger, ScheduleRecords } from '../../core/ports/index.js';

/** How often a waiting pass asks for the lock again. */
const POLL_MS = 25;

/**
 * A schedule's lock as one pass holds it: renewed every third of its ttl until released. When a
 * renewal finds it gone or another's (this process stalled past the ttl and another took over),
 * `lost` is set, and the store refuses this pass's writes anyway.
 */
export class HeldLock {
  acquired = false;
  lost = false;
  private timer?: NodeJS.Timeout;
  private renewing?: Promise<void>;
  private released = false;

  constructor(
    readonly scheduleId: string,
    readonly owner: string,
    private readonly store: ScheduleRecords,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {
    this.schedule();
  }

  /**
   * Unlocks, then unlists the pass (a crash between leaves a listed pass, which the sweep wakes
   * again: harmless). A pass that lost its lock stays listed: what it had not written (a due fire
   * it was handling) is left to the sweep, which wakes the schedule within leaseTtl +
   * sweepInterval, rather than to the next BullMQ wake (an hour later for an hourly schedule).
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.timer);
    await this.renewing;
    // Also when the lock was never known taken (a take whose reply was lost may have taken it);
    // errors are left to expiry: the lock lapses within its ttl, and the sweep unlists the pass.
    await this.store.unlock(this.scheduleId, this.owner).catch(() => undefined);
    if (this.lost) return;
    await this.store.unhold(this.scheduleId, this.owner).catch(() => undefined);
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.renewing = this.renew().finally(() => {
        this.renewing = undefined;
        if (!this.released && !this.lost) this.schedule();
      });
    }, this.ttlMs / 3);
  }

  /** Keeps the pass listed, then the lock held (that order: the listing never ends before the lock). */
  private async renew(): Promise<void> {
    const { store, scheduleId, owner, ttlMs } = this;
    try {
      await store.hold(scheduleId, owner, ttlMs);
      if (!this.acquired || this.released) return;
      if (!(await store.renewLock(scheduleId, owner, ttlMs))) {
        this.lost = true;
        this.logger.warn(
          `Schedule '${scheduleId}': this process could not renew its lock in time (it stalled for over ${ttlMs} ms) and let it go; what it had not written yet is left to the next wake`,
        );
      }
    } catch {
      // Redis unreachable: the next renewal tries again (the lock lapses if it stays so).
    }
  }
}

/**
 * Takes schedules' locks: a pass lists itself in the schedule holds, then takes the lock
 * (waiting a bounded time for another holder), and renews both until it lets go. A lock lasts
 * `leaseTtl` past its last renewal, so a holder that dies lets go within `leaseTtl`, and the
 * schedule sweep, which reads the holds, wakes its schedule within `leaseTtl` + `sweepInterval`.
 */
export class ScheduleLocks {
  constructor(private readonly deps: { store: ScheduleRecords; settings: { leaseTtlMs: number }; logger: Logger }) {}

  /** How long a pass waits for a live holder: longer than a dead holder's lock can outlast it. */
  get waitMs(): number {
    return this.deps.settings.leaseTtlMs + Math.max(250, this.deps.settings.leaseTtlMs / 10);
  }

  /**
   * Takes the schedule's lock, waiting up to `waitMs` (0: one attempt) while another owner holds
   * it; undefined when it stayed held. `answered` is called after each refusal (Redis answered).
   */
  async take(scheduleId: string, waitMs: number, answered?: () => void): Promise<HeldLock | undefined> {
    const { store, settings, logger } = this.deps;
    const owner = randomUUID();
    // Listed first: a process that dies from here on leaves a pass the sweep finds.
    await store.hold(scheduleId, owner, settings.leaseTtlMs);
    const held = new HeldLock(scheduleId, owner, store, settings.leaseTtlMs, logger);
    const deadline = Date.now() + waitMs;
    try {
      for (;;) {
        if (await store.lock(scheduleId, owner, settings.leaseTtlMs)) {
          held.acquired = true;
          crashPoint('schedule.after-lock');
          return held;
        }
        answered?.();
        if (Date.now() >= deadline) {
          await held.release();
          return undefined;
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    } catch (err) {
      await held.release();
      throw err;
    }
  }
}
