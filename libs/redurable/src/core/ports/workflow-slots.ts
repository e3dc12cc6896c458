import type { RecordedWorkflowFlow } from '../flow/workflow-flow.js';

/**
 * What the workflow side of flow control records next to a workflow (store/ implements it): a
 * waiting run's grant, and the release index of closed runs' slots (see KeyNames.flowReleaseIndex).
 */
export interface WorkflowSlotRecords {
  /** The waiting run got its slot: it takes tasks from now on. False when it is no longer the current running run. */
  flowGranted(workflowId: string, runId: string): Promise<boolean>;
  /** Flow records of runs of one shard closed before `before` whose slot may not be free yet. */
  pendingReleases(shard: number, before: number, limit: number): Promise<RecordedWorkflowFlow[]>;
  /** The closed run's slot is free: its holder leaves the release index. */
  flowReleased(workflowId: string, holder: string): Promise<void>;
  /** Ids of one shard's workflows waiting for a slot, oldest wait first (`start`, `count` as in ZRANGE). */
  waitingIds(shard: number, start: number, count: number): Promise<string[]>;
}
