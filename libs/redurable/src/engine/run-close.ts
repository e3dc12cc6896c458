import { randomUUID } from 'node:crypto';
import { crashPoint } from '../core/crash-points.js';
import type { NewEvent, WorkflowExecutionStarted } from '../core/events.js';
import type { CloseSpec, DurableMetrics, JobDispatcher, Logger, RunClosing } from '../core/ports/index.js';
import { deadlineOf, recordTimeouts } from '../core/workflow-timeouts.js';
import type { Closing, NewCommand, WorkflowActivation } from '../workflow/activation.js';
import type { WorkflowSlots } from '../queues/workflow-slots.js';
import type { StepDispatch } from './step-dispatch.js';
import type { WorkflowCache } from './workflow-cache.js';

/** The event and store instructions that end a run (continue-as-new names the next run, started at `now`). */
export function closeSpec(
  activation: WorkflowActivation,
  closing: Closing,
  now: number,
  /** The build of the process that continues the run as new (recorded with the next run). */
  buildId?: string,
): { event: NewEvent; spec: CloseSpec } {
  const { workflowId, workflowType, taskQueue } = activation.info;
  switch (closing.status) {
    case 'completed':
      return { event: { type: 'WorkflowExecutionCompleted', result: closing.value }, spec: closing };
    case 'canceled':
      return { event: { type: 'WorkflowExecutionCanceled', failure: JSON.parse(closing.value) }, spec: closing };
    case 'continued': {
      const runId = randomUUID();
      const started = {
        type: 'WorkflowExecutionStarted' as const,
        workflowType,
        workflowId,
        runId,
        taskQueue,
        input: closing.input,
        continuedFromRunId: activation.info.runId,
        ...(activation.parent ? { parent: activation.parent } : {}),
        ...(activation.trace ? { trace: activation.trace } : {}),
        ...carriedTimeouts(activation.timeouts, now),
        // Search attributes (as upserted so far) and memo carry over, as Temporal does; the meta keeps the indexed map.
        ...(Object.keys(activation.recordedSearchAttributes).length
          ? { searchAttributes: activation.recordedSearchAttributes }
          : {}),
        ...(activation.memo ? { memo: activation.memo } : {}),
        ...(activation.startEvent.priority !== undefined ? { priority: activation.startEvent.priority } : {}),
        // The concurrency slot goes on with the execution: the next run holds it already.
        ...(activation.startEvent.flow ? { flow: activation.startEvent.flow } : {}),
        ...(buildId ? { buildId } : {}),
      };
      return {
        event: { type: 'WorkflowExecutionContinuedAsNew', newRunId: runId, input: closing.input },
        spec: { status: 'continued', value: '', next: { runId, started } },
      };
    }
    default:
      return { event: { type: 'WorkflowExecutionFailed', failure: JSON.parse(closing.value) }, spec: closing };
  }
}

/** A continued run keeps the execution's deadline and gets a run deadline of its own. */
function carriedTimeouts(
  timeouts: WorkflowExecutionStarted['timeouts'],
  now: number,
): Pick<WorkflowExecutionStarted, 'timeouts'> {
  if (!timeouts) return {};
  const { executionTimeoutMs, runTimeoutMs, executionDeadline } = timeouts;
  return { timeouts: recordTimeouts({ executionTimeoutMs, runTimeoutMs }, now, executionDeadline) };
}

export interface RunCloserDeps {
  cache: WorkflowCache;
  dispatcher: JobDispatcher;
  steps: StepDispatch;
  runs: RunClosing;
  /** Frees the run's concurrency slot when it ends (not when it continues as new: the next run keeps it). */
  slots: Pick<WorkflowSlots, 'releaseAfterClose'>;
  metrics: DurableMetrics;
  logger: Logger;
}

/** What a task does once the commit that closes its run is in. */
export class RunCloser {
  constructor(private readonly deps: RunCloserDeps) {}

  /**
   * Starts children the last round scheduled (their parent-close policy then applies to them),
   * then starts the next run's first task, or reports to the parent and applies the children's
   * parent-close policy.
   */
  async closed(
    activation: WorkflowActivation,
    spec: CloseSpec,
    taskQueue: string,
    commands: NewCommand[],
  ): Promise<void> {
    const { cache, dispatcher, steps, runs, metrics, logger } = this.deps;
    const { workflowId, runId } = activation.info;
    cache.evict(workflowId);
    crashPoint('close.after-commit');
    if (deadlineOf(activation.timeouts)) await dispatcher.cancelTimeout({ workflowId, runId, taskQueue });
    const children = commands.filter((c) => c.type === 'ChildWorkflowScheduled');
    if (children.length > 0)
      await steps.dispatch(
        { workflowId, runId, taskQueue, trace: activation.trace, priority: activation.startEvent.priority },
        children,
        activation.now,
      );
    if (spec.next) {
      metrics.workflowClosed(activation.info.workflowType, 'continued');
      logger.log(`Workflow ${workflowId} (run ${runId}) continued as new run ${spec.next.runId}`);
      await dispatcher.enqueueTask(workflowId, spec.next.runId, taskQueue, 'start', {
        priority: activation.startEvent.priority,
      });
      return;
    }
    logger.log(`Workflow ${workflowId} (run ${runId}) ${spec.status}`);
    metrics.workflowClosed(activation.info.workflowType, spec.status);
    // The close put the holder in the release index: a crash before this is repaired by the sweep.
    if (activation.startEvent.flow) await this.deps.slots.releaseAfterClose(workflowId, activation.startEvent.flow);
    if (activation.parent || activation.hasChildren) {
      await runs.afterClose(workflowId, runId, {
        parent: activation.parent !== undefined,
        children: activation.hasChildren,
      });
    }
  }
}
