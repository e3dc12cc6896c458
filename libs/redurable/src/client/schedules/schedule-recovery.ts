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
