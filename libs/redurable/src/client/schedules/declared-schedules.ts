import type { Logger } from '../../core/ports/index.js';
import { SCHEDULES_METADATA } from '../../core/definitions/metadata.js';
import type { ScheduleDecoratorOptions } from '../../core/definitions/schedule.decorator.js';
import type { DurableRegistry } from '../../core/definitions/registry.js';
import { InvalidScheduleError } from '../../core/errors/schedule.errors.js';
import type { ScheduleClient } from './schedule-client.js';
import type { ScheduleOptions } from '../../core/schedules/schedule-options.js';

/** The `@Schedule` schedules of the registered workflow classes, as `create` options. */
export function declaredSchedules(registry: DurableRegistry): ScheduleOptions[] {
  const out: ScheduleOptions[] = [];
  const seen = new Map<string, string>();
  for (const def of registry.workflows.values()) {
    const declared = (Reflect.getMetadata(SCHEDULES_METADATA, def.cls) ?? []) as ScheduleDecoratorOptions[];
    for (const d of declared) {
      const scheduleId = d.scheduleId ?? def.name;
      const other = seen.get(scheduleId);
      if (other !== undefined) {
        throw new InvalidScheduleError(
          scheduleId,
          `@Schedule on ${def.cls.name} uses an id that @Schedule on ${other} uses too: give each @Schedule its own scheduleId`,
        );
      }
      seen.set(scheduleId, def.cls.name);
      const dates = { ...(d.startAt ? { startAt: d.startAt } : {}), ...(d.endAt ? { endAt: d.endAt } : {}) };
      out.push({
        scheduleId,
        spec:
          d.cron !== undefined
            ? { cron: d.cron, ...(d.timezone ? { timezone: d.timezone } : {}), ...dates }
            : { every: d.every!, ...dates },
        action: {
          workflow: def.cls,
          args: d.args,
          taskQueue: d.taskQueue,
          workflowId: d.workflowId,
          workflowExecutionTimeout: d.workflowExecutionTimeout,
          workflowRunTimeout: d.workflowRunTimeout,
        },
        policies: d.policies,
      });
    }
  }
  return out;
}

/** Creates or updates every `@Schedule` schedule (at boot, in processes with workers, before the workers start). */
export async function upsertDeclaredSchedules(
  client: ScheduleClient,
  registry: DurableRegistry,
  logger: Logger,
): Promise<void> {
  const declared = declaredSchedules(registry);
  // All are checked before any is written: a bad one fails the boot and changes nothing.
  for (const options of declared) await client.check(options);
  for (const options of declared) {
    const done = await client.upsert(options, 'decorator');
    logger.log?.(`Schedule '${options.scheduleId}' ${done} from @Schedule`);
  }
}
