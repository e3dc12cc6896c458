import type { ParentInfo } from './events.js';

export type { ParentInfo };
import type { RecordedSearchAttributes } from './search/search-attributes.js';
import type { RecordedWorkflowFlow } from './flow/workflow-flow.js';

/** Where a workflow's current run stands: the one status union of the library. */
export type WorkflowStatus =
  'running' | 'completed' | 'failed' | 'compensation_failed' | 'canceled' | 'terminated' | 'timed_out';

/** Every status a run ends in. */
export type ClosedStatus = Exclude<WorkflowStatus, 'running'>;

/** Every status, in the order the explorer and the command line list them. */
export const WORKFLOW_STATUSES: readonly WorkflowStatus[] = [
  'running',
  'completed',
  'failed',
  'compensation_failed',
  'canceled',
  'terminated',
  'timed_out',
];

/** What to do when the id's last run is closed. */
export type IdReusePolicy = 'ALLOW_DUPLICATE' | 'ALLOW_DUPLICATE_FAILED_ONLY' | 'REJECT_DUPLICATE';
/** What to do when a run with the id is running. */
export type IdConflictPolicy = 'FAIL' | 'USE_EXISTING' | 'TERMINATE_EXISTING';

/** The meta hash of a workflow's current run, as read. */
export interface WorkflowMeta {
  workflowId: string;
  type: string;
  status: WorkflowStatus;
  runId: string;
  taskQueue: string;
  startedAt: number;
  closedAt?: number;
  historyLength: number;
  /** Encoded result (completed) or failure JSON (failed). */
  closeValue?: string;
  /** Last workflow-task failure (for example a non-determinism error) while the task is being retried. */
  taskFailure?: string;
  taskAttempt?: number;
  retryAt?: number;
  dirty: boolean;
  /** Set while jobs of a committed task may not exist yet (see commitTask.lua). */
  dispatchAt?: number;
  /** Set on a child workflow: its parent, to report the outcome to. */
  parent?: ParentInfo;
  lease?: string;
  leaseExp: number;
  /** Fencing token of the last lease taken. */
  fence: number;
  /** Current search attributes (as recorded), if any. */
  searchAttributes?: RecordedSearchAttributes;
  /** The run's priority (1 first … 10 last), when not the default (5). */
  priority?: number;
  /** The run's concurrency limit and key, and its slot's holder id (see core/flow/workflow-flow.ts). */
  flow?: RecordedWorkflowFlow;
  /** Set while the run waits for its concurrency slot: no task runs it until then. */
  flowWait: boolean;
  /** The build of the worker that took the last workflow-task lease, when it set `buildId`. */
  taskBuild?: string;
  /** The build a pinned run's tasks go to (`@Workflow({ versioning: 'pinned' })`): that of the worker that committed its first task, or set by `update-build`. */
  pinnedBuild?: string;
  /** Set while a debounced run waits for its start (ms): no task runs it before then. */
  startAt?: number;
}
