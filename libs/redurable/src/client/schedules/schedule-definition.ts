import type { Type } from '../../core/types.js';
import { toMs, type Duration } from '../../core/duration.js';
import { checkTaskQueueName } from '../../core/task-queue-name.js';
import { validateWorkflowInput } from '../input-validation.js';
import {
  workflowDefinitionOf,
  type DurableRegistry,
  type WorkflowDefinition,
} from '../../core/definitions/registry.js';
import { InvalidDurationError, RedurableError, UnknownWorkflowTypeError } from '../../core/errors/library.errors.js';
import { InvalidScheduleError } from '../../core/errors/schedule.errors.js';
import type { DataConverter } from '../../core/payload/data-converter.js';
import type {
  ScheduleAction,
  SchedulePolicies,
  ScheduleOverlapPolicy,
  ScheduleSpec,
} from '../../core/schedules/schedule-options.js';
import { checkSpec } from '../../core/schedules/schedule-spec.js';
import type { StoredDefinition, WorkflowCatalog } from '../../core/ports/index.js';
import { timeoutsInMs } from '../../core/workflow-timeouts.js';

const OVERLAP: readonly ScheduleOverlapPolicy[] = [
  'SKIP',
  'BUFFER_ONE',
  'ALLOW_ALL',
  'CANCEL_OTHER',
  'TERMINATE_OTHER',
];
/** Hash tags and BullMQ's job keys are built from the id: no braces, colons or spaces. */
const SCHEDULE_ID = /^[A-Za-z0-9._~@-]{1,200}$/;
export const DEFAULT_WORKFLOW_ID = '{scheduleId}-{fireTime}';
const DEFAULT_CATCHUP_WINDOW: Duration = '1 hour';

/** What a definition needs to be checked: the registry, the codec and the known workflow types. */
export interface DefinitionDeps {
  registry: DurableRegistry;
  converter: DataConverter;
  catalog: WorkflowCatalog;
}

export function checkScheduleId(scheduleId: unknown): string {
  if (typeof scheduleId !== 'string' || !SCHEDULE_ID.test(scheduleId)) {
    throw new InvalidScheduleError(
      String(scheduleId),
      'scheduleId must be 1 to 200 letters, digits or ._~@- (no spaces, braces or colons)',
    );
  }
  return scheduleId;
}

export function checkOverlap(scheduleId: string, overlap: unknown): ScheduleOverlapPolicy {
  if (!OVERLAP.includes(overlap as ScheduleOverlapPolicy))
    throw new InvalidScheduleError(
      scheduleId,
      `overlap policy ${JSON.stringify(overlap)} is not one of ${OVERLAP.join(', ')}`,
    );
  return overlap as ScheduleOverlapPolicy;
}

/**
 * Checks everything a schedule is given and returns what is stored; throws (InvalidScheduleError,
 * UnknownWorkflowTypeError, a validation or payload error) before anything is written.
 */
export async function defineSchedule(
  deps: DefinitionDeps,
  scheduleId: string,
  given: { spec: ScheduleSpec; action: ScheduleAction; policies?: SchedulePolicies },
  origin: StoredDefinition['origin'],
): Promise<StoredDefinition> {
  const bad = (problem: string) => new InvalidScheduleError(scheduleId, problem);
  const spec = checkSpec(scheduleId, given.spec);
  const action = given.action;
  if (!action || typeof action !== 'object' || !action.workflow)
    throw bad('action.workflow is missing: give the @Workflow class or its type name');
  const { workflowType, taskQueue, definition } = await resolveWorkflow(deps, action.workflow, action.taskQueue);
  if (taskQueue !== undefined) checkTaskQueueName(taskQueue, `schedule '${scheduleId}'`);
  const args = action.args ?? [];
  if (!Array.isArray(args)) throw bad('action.args must be an array (the @WorkflowRun arguments)');
  if (definition) validateWorkflowInput(definition, args);
  const workflowId = action.workflowId ?? DEFAULT_WORKFLOW_ID;
  if (typeof workflowId !== 'string' || !workflowId.includes('{fireTime}')) {
    throw bad(
      `action.workflowId '${String(workflowId)}' must contain {fireTime}: each fire needs its own id, which also makes a fire handled twice start one workflow`,
    );
  }
  let timeouts: StoredDefinition['action']['timeouts'];
  try {
    timeouts = timeoutsInMs(action, `schedule '${scheduleId}'`);
  } catch (err) {
    if (err instanceof RedurableError) throw bad(`action: ${err.message}`);
    throw err;
  }
  const p = given.policies ?? {};
  let catchupWindowMs: number;
  try {
    catchupWindowMs = toMs(p.catchupWindow ?? DEFAULT_CATCHUP_WINDOW);
  } catch (err) {
    if (err instanceof InvalidDurationError) throw bad(`policies.catchupWindow: ${err.message}`);
    throw err;
  }
  const catchup = p.catchup ?? 'ALL';
  if (catchup !== 'ALL' && catchup !== 'LAST')
    throw bad(`policies.catchup ${JSON.stringify(catchup)} is not 'ALL' or 'LAST'`);
  return {
    spec,
    action: {
      workflowType,
      ...(taskQueue !== undefined ? { taskQueue } : {}),
      args: deps.converter.encodeAll(args, `schedule '${scheduleId}'`),
      workflowId,
      ...(timeouts ? { timeouts } : {}),
    },
    policies: { overlap: checkOverlap(scheduleId, p.overlap ?? 'SKIP'), catchupWindowMs, catchup },
    origin,
  };
}

async function resolveWorkflow(
  deps: DefinitionDeps,
  workflow: Type<object> | string,
  taskQueue?: string,
): Promise<{ workflowType: string; taskQueue?: string; definition?: WorkflowDefinition }> {
  if (typeof workflow !== 'string') {
    const def = workflowDefinitionOf(workflow);
    return { workflowType: def.name, taskQueue: taskQueue ?? def.taskQueue, definition: def };
  }
  const local = deps.registry.workflows.get(workflow);
  if (local) return { workflowType: local.name, taskQueue: taskQueue ?? local.taskQueue, definition: local };
  if (!(await deps.catalog.isKnownWorkflowType(workflow))) throw new UnknownWorkflowTypeError(workflow);
  return { workflowType: workflow, taskQueue };
}

/** The id of the workflow a fire starts. */
export function workflowIdOf(template: string, scheduleId: string, fireTime: number): string {
  return template.replaceAll('{scheduleId}', scheduleId).replaceAll('{fireTime}', new Date(fireTime).toISOString());
}
