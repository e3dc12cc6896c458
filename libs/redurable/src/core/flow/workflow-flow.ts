import { workflowHolder } from '../ports/flow.js';
import { flowKeyOf, type CheckedConcurrency, type RecordedConcurrency } from './flow-options.js';

/**
 * A workflow's concurrency limit as its run records it (WorkflowExecutionStarted.flow, and the
 * meta): the limit's name, the key computed from the start's arguments, the limit then in force,
 * and the holder id of its slot. Continue-as-new and the reset of a running run keep the holder
 * (the slot goes on with the execution); a new start, or the reset of a closed run, gets a new one.
 */
export interface RecordedWorkflowFlow extends RecordedConcurrency {
  /** `wf:<workflowId>|<runId>`: the run that took the slot first. */
  holder: string;
}

/**
 * The holder id of a workflow's slot: the workflow id and the run that first asked for it. Not
 * the workflow id alone: a new run of the id, started while the last one's release is still on
 * its way (a crash between close and release), must not take over that slot and then lose it.
 */
export function workflowFlowHolder(workflowId: string, runId: string): string {
  return workflowHolder(`${workflowId}|${runId}`);
}

/** The workflow id of a workflow holder id (undefined for another holder). */
export function workflowOfHolder(holder: string): string | undefined {
  if (!holder.startsWith('wf:')) return undefined;
  const bar = holder.lastIndexOf('|');
  return bar > 3 ? holder.slice(3, bar) : undefined;
}

/**
 * The flow record of a run of a workflow type with a concurrency limit, its key computed from
 * the start's arguments (an InvalidArgumentError naming the type and the limit when the key
 * function throws or returns anything but a non-empty string of at most 256 characters).
 */
export function workflowFlowOf(
  limit: CheckedConcurrency,
  args: unknown[],
  workflow: { workflowType: string; workflowId: string; runId: string },
): RecordedWorkflowFlow {
  const key = flowKeyOf(limit, args, `Workflow '${workflow.workflowType}' (${workflow.workflowId})`);
  return { name: limit.name, key, limit: limit.limit, holder: workflowFlowHolder(workflow.workflowId, workflow.runId) };
}
