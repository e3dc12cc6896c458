import type { Clock, Logger, ScheduleRecords } from '../../core/ports/index.js';
import type { ScheduleProcessor } from './schedule-processor.js';
import type { ScheduleWakeups } from '../../queues/schedule-wakeups.js';

/**
 * At worker boot: re-creates a job scheduler that is missing (removed in Bull Board, lost in a
 * failover) so no schedule is stranded, and wakes every schedule once, so fire times missed
 * while no worker ran are caught up now rather than at the next fire.
 */
export async function recoverSchedules(deps: {
  store: ScheduleRecords;
  wakeups: ScheduleWakeups;
  processor: ScheduleProcessor;
  clock: Clock;
  logger: Logger;
}): Promise<void> {
  const { store, wakeups, processor, logger } = deps;
  for (const scheduleId of await store.ids()) {
    const rec = await store.read(scheduleId);
    if (!rec) continue;
    const ended = rec.def.spec.endAt !== undefined && rec.def.spec.endAt <= deps.clock.now();
    if (!rec.state.paused && !ended && !(await wakeups.scheduled(scheduleId))) {
      logger.warn(`Schedule '${scheduleId}' had no BullMQ job scheduler (removed from its queue?): re-created`);
      await wakeups.sync(scheduleId, rec.def, false, deps.clock.now());
    }
    await processor.wake(scheduleId);
  }
}

/** Lapsed passes handled per sweep pass (the rest wait for the next). */
const BATCH = 100;

/**
 * Finds the schedules whose pass stopped without letting go (its process died or stalled
 * mid-wake, so a fire it was starting may be unhandled) and wakes them, every `sweepInterval`
 * in every process with workers. A pass lists itself in the schedule holds before it takes a
 * schedule's lock and renews both together (see ScheduleLocks), so a pass listed past its time
 * whose lock is gone died; its schedule is woken (one attempt at the lock: while another process
 * holds it, the pass stays listed for the next sweep) and then unlisted. A dead holder's
 * schedule is thus woken within `leaseTtl` + `sweepInterval`. Waking a schedule that had
 * nothing left to do is harmless: a wake starts only what is due.
 */
export class ScheduleSweep {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly deps: {
      store: ScheduleRecords;
      processor: Pick<ScheduleProcessor, 'wakeIfFree'>;
      logger: Logger;
    },
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.running ??= this.runOnce().finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  /** One pass over the lapsed holds; returns how many schedules it woke. */
  async runOnce(): Promise<number> {
    const { store, processor, logger } = this.deps;
    let woken = 0;
    try {
      for (const { scheduleId, owner } of await store.lapsedHolds(BATCH)) {
        try {
          // Still its owner's: the renewal of the lock came a moment after the hold's; next sweep.
          if ((await store.lockHolder(scheduleId)) === owner) continue;
          const actions = await processor.wakeIfFree(scheduleId);
          if (actions === undefined) continue; // another process holds it: next sweep
          await store.unhold(scheduleId, owner);
          woken++;
          logger.warn(
            `Schedule '${scheduleId}': a process handling it stopped without letting go (it died, stalled or lost Redis); woken here${actions.length > 0 ? ` (${actions.map((a) => a.outcome).join(', ')})` : ''}`,
          );
        } catch (err) {
          logger.error(
            `Schedule sweep could not wake schedule '${scheduleId}': ${(err as Error).message}`,
            (err as Error).stack,
          );
        }
      }
    } catch (err) {
      logger.error(`Schedule sweep failed: ${(err as Error).message}`, (err as Error).stack);
    }
    return woken;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
