import type { RecordedWorkflowFlow } from '../core/flow/workflow-flow.js';
import { workflowOfHolder } from '../core/flow/workflow-flow.js';
import { crashPoint } from '../core/crash-points.js';
import type {
  FlowAcquireResult,
  FlowControl,
  FlowLimitKey,
  HistoryReader,
  JobDispatcher,
  Logger,
  WorkflowSlotRecords,
} from '../core/ports/index.js';
import type { WorkflowMeta } from '../core/workflow-state.js';

export interface WorkflowSlotsDeps {
  flow: FlowControl;
  histories: Pick<HistoryReader, 'getMeta' | 'startedEvent'>;
  records: WorkflowSlotRecords;
  dispatcher: JobDispatcher;
  logger: Logger;
}

/** A run that asks for a slot: its ids, task queue and priority. */
export interface SlotRequester {
  workflowId: string;
  runId: string;
  taskQueue: string;
  priority?: number;
}

/** At most this many waiters woken by one release (dead ones are dropped and the next woken). */
const MAX_WAKES = 100;

const limitKeyOf = (flow: RecordedWorkflowFlow): FlowLimitKey => ({ name: flow.name, key: flow.key });

/**
 * Workflow concurrency limits (`@Workflow({ concurrency })`). A run of a limited type starts
 * waiting (its start script marks it: it takes no task) and asks for its slot; granted, the mark
 * goes and its first task is enqueued. The slot is held for the whole execution (continue-as-new
 * and the reset of a running run keep its holder) and freed when it closes, however it closes:
 * the close script puts its holder in the release index, whoever closed it frees the slot and
 * wakes the next waiters, and the recovery sweep frees what a crash left there. Every step is
 * idempotent (acquire and release per holder), so each can be repeated after a crash or a lost
 * reply; a waiting run that lost its place is put back by the sweep.
 */
export class WorkflowSlots {
  constructor(private readonly deps: WorkflowSlotsDeps) {}

  /** A run that waits for its slot asks for it (again: idempotent); granted, its first task is enqueued. */
  async request(run: SlotRequester, flow: RecordedWorkflowFlow): Promise<FlowAcquireResult> {
    const res = await this.deps.flow.acquire(limitKeyOf(flow), flow.holder, {
      limit: flow.limit,
      priority: run.priority,
    });
    crashPoint('flow.after-acquire');
    if (res.granted) await this.granted(run, flow);
    return res;
  }

  /**
   * After a write that made a run wait (a start, a child's start, the reset of a closed run): asks
   * for its slot. The run is recorded already, so an error here (Redis unavailable) does not fail
   * that write: it is logged, and the recovery sweep asks again within `leaseTtl` + `sweepInterval`.
   */
  async requestAfterStart(run: SlotRequester, flow: RecordedWorkflowFlow): Promise<void> {
    try {
      await this.request(run, flow);
    } catch (err) {
      this.deps.logger.warn(
        `Workflow ${run.workflowId} (run ${run.runId}) could not ask for a slot of limit '${flow.name}' (${(err as Error).message}); the recovery sweep will`,
      );
    }
  }

  /** The run got its slot: it may take tasks (its first is enqueued); a run that closed meanwhile gives the slot back. */
  private async granted(run: SlotRequester, flow: RecordedWorkflowFlow): Promise<void> {
    const { records, dispatcher } = this.deps;
    if (!(await records.flowGranted(run.workflowId, run.runId))) {
      await this.release(run.workflowId, flow);
      return;
    }
    await dispatcher.enqueueTask(run.workflowId, run.runId, run.taskQueue, 'flow-granted', { priority: run.priority });
  }

  /**
   * Frees a closed run's slot (or its place in line), wakes the waiters now first in line, and
   * takes the holder out of the release index. Idempotent.
   */
  async release(workflowId: string, flow: RecordedWorkflowFlow): Promise<void> {
    const at = limitKeyOf(flow);
    const res = await this.deps.flow.release(at, flow.holder, flow.limit);
    crashPoint('flow.after-release');
    await this.deps.records.flowReleased(workflowId, flow.holder);
    await this.wake(at, flow.limit, res.wake);
  }

  /**
   * After a run closed (its close script put the holder in the release index): frees its slot.
   * The close is recorded already, so an error here does not fail it: it is logged, and the
   * recovery sweep frees the slot after `leaseTtl`.
   */
  async releaseAfterClose(workflowId: string, flow: RecordedWorkflowFlow): Promise<void> {
    try {
      await this.release(workflowId, flow);
    } catch (err) {
      this.deps.logger.warn(
        `Workflow ${workflowId}: its slot of limit '${flow.name}' could not be freed now (${(err as Error).message}); the recovery sweep will`,
      );
    }
  }

  /** After a run closed from outside its task (terminated, timed out): frees its slot, if its type has a limit. */
  async releaseRun(workflowId: string, runId: string): Promise<void> {
    const flow = await this.deps.histories.startedEvent(workflowId, runId).then(
      (started) => started?.flow,
      () => undefined, // unreadable now: the sweep frees the slot (the holder is in the release index)
    );
    if (flow) await this.releaseAfterClose(workflowId, flow);
  }

  /**
   * Gives the first waiters of a key their slot. A waiter whose run no longer waits for this
   * holder (closed, replaced) leaves the line, and the one after it is woken instead.
   */
  private async wake(at: FlowLimitKey, limit: number, first: string[]): Promise<void> {
    const { flow, histories } = this.deps;
    const queue = [...first];
    for (let n = 0; n < MAX_WAKES && queue.length > 0; n++) {
      const holder = queue.shift()!;
      const workflowId = workflowOfHolder(holder);
      const meta = workflowId === undefined ? undefined : await histories.getMeta(workflowId);
      if (!meta || meta.status !== 'running' || meta.flow?.holder !== holder) {
        queue.push(...(await flow.release(at, holder, limit)).wake.filter((h) => !queue.includes(h)));
        continue;
      }
      if (!meta.flowWait) continue; // granted already
      await this.request(meta, meta.flow);
    }
  }

  /** The sweep, for a run waiting for its slot: asks again (it may have lost its place, or its wake-up). Returns whether granted. */
  async recheck(meta: WorkflowMeta): Promise<boolean> {
    if (!meta.flow) return false;
    return (await this.request(meta, meta.flow)).granted;
  }

  /** The sweep: frees the slots of runs of a shard closed before `before` whose release did not happen; returns how many. */
  async releaseStale(shard: number, before: number, limit: number): Promise<number> {
    const stale = await this.deps.records.pendingReleases(shard, before, limit);
    for (const flow of stale) {
      const workflowId = workflowOfHolder(flow.holder);
      if (workflowId === undefined) continue;
      this.deps.logger.warn(
        `Recovery: the concurrency slot of workflow ${workflowId} (limit '${flow.name}', key '${flow.key}') was not freed when its run closed; freed now`,
      );
      await this.release(workflowId, flow);
    }
    return stale.length;
  }

  /** Whether a shard has closed runs whose slot may not be free, closed before `before`. */
  async hasStale(shard: number, before: number): Promise<boolean> {
    return (await this.deps.records.pendingReleases(shard, before, 1)).length > 0;
  }
}
