import type { Logger } from '../core/ports/index.js';
import type { ScheduleWakeups } from '../queues/schedule-wakeups.js';
import type { ScheduleStore } from '../store/schedule-store.js';
import type { ClientParts } from './client-parts.js';
import { ScheduleClient } from './schedules/schedule-client.js';
import { ScheduleProcessor } from './schedules/schedule-processor.js';
import { ScheduledWorkflowCalls } from './schedules/scheduled-workflow-calls.js';
import { WorkflowClient } from './workflow-client.js';
import { WorkflowStarter } from './workflow-starter.js';

/** What the client side is built from, besides the parts every client class draws on. */
export interface ClientAssemblyParts {
  scheduleStore: ScheduleStore;
  scheduleWakeups: ScheduleWakeups;
  logger: Logger;
}

/**
 * The client of one process, and the schedule processor that fires its schedules: one starter
 * shared by `client.start()` and schedule fires.
 */
export function assembleClient(
  parts: ClientParts,
  { scheduleStore, scheduleWakeups, logger }: ClientAssemblyParts,
): { client: WorkflowClient; schedules: ScheduleProcessor } {
  const { histories, catalog, registry, converter, clock, link, settings } = parts;
  const starter = new WorkflowStarter(parts);
  const schedules = new ScheduleProcessor({
    store: scheduleStore,
    histories,
    converter,
    workflows: new ScheduledWorkflowCalls(parts, starter),
    clock,
    wakeups: scheduleWakeups,
    logger,
    settings: { leaseTtlMs: settings.leaseTtlMs },
  });
  const schedule = new ScheduleClient({
    schedules: scheduleStore,
    histories,
    catalog,
    registry,
    converter,
    processor: schedules,
    wakeups: scheduleWakeups,
    link,
    clock,
  });
  return { client: new WorkflowClient(parts, starter, schedule), schedules };
}
