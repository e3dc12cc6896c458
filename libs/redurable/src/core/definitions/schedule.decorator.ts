import type { Duration } from '../duration.js';
import type { ScheduleAction, SchedulePolicies } from '../schedules/schedule-options.js';
import { SCHEDULES_METADATA } from './metadata.js';

/** Options of {@link Schedule}: a spec (`cron` or `every`), the action's arguments, and policies. */
export type ScheduleDecoratorOptions = Omit<ScheduleAction, 'workflow'> & {
  /** Id of the schedule. @default the workflow type name (give ids when a class has several schedules) */
  scheduleId?: string;
  /** No fire before this time. @default none */
  startAt?: Date;
  /** No fire after this time. @default none */
  endAt?: Date;
  policies?: SchedulePolicies;
} & ({ cron: string; timezone?: string; every?: never } | { every: Duration; cron?: never; timezone?: never });

/**
 * A schedule owned by the code: on a `@Workflow` class, it is created (or, when its options
 * changed, updated) when a process with workers boots; its pause state and handled fires are
 * kept across boots. Removing the decorator does not delete the schedule: delete it with
 * `client.schedule.delete(id)` or `redurable schedule delete <id>`.
 *
 * @example
 * @Schedule({ scheduleId: 'nightly-cleanup', cron: '0 0 3 * * *', timezone: 'UTC', args: [{ olderThanDays: 30 }] })
 * @Workflow()
 * export class CleanupWorkflow { @WorkflowRun() async run(input: { olderThanDays: number }) { ... } }
 */
export function Schedule(options: ScheduleDecoratorOptions): ClassDecorator {
  return (target) => {
    const existing = (Reflect.getMetadata(SCHEDULES_METADATA, target) ?? []) as ScheduleDecoratorOptions[];
    Reflect.defineMetadata(SCHEDULES_METADATA, [...existing, options], target);
  };
}
