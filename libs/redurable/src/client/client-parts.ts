import type { DurableRegistry } from '../core/definitions/registry.js';
import type { DataConverter } from '../core/payload/data-converter.js';
import type { TaskTokens } from '../core/task-token.js';
import type {
  ActivityClaims,
  BuildPins,
  Clock,
  DurableMetrics,
  FirstTasks,
  FlowControl,
  HistoryReader,
  HistoryWriter,
  ListingIndex,
  RunClosing,
  WorkflowCatalog,
} from '../core/ports/index.js';
import type { Dispatcher } from '../queues/dispatcher.js';
import type { QueueSet } from '../queues/queue-set.js';
import type { WorkflowSlots } from '../queues/workflow-slots.js';
import type { WorkflowWrites } from '../queues/workflow-writes.js';
import type { ClosedWatcher } from '../store/closed-watcher.js';
import type { RedisLink } from '../store/redis-link.js';
import type { WorkerMessages } from '../store/worker-messages.js';

/**
 * The parts the client side is built on (runtime.ts builds them once). Each client class names
 * the few it uses, as a `Pick` of these, so what reaches it is what it declares.
 */
export interface ClientParts {
  /** Workflow metas and histories: read, and written from outside a task. */
  histories: HistoryReader & HistoryWriter;
  /** The listing indexes (`list()`, `count()`). */
  indexes: ListingIndex;
  /** Workflow types and search attribute declarations workers registered. */
  catalog: WorkflowCatalog;
  /** Bounded waits for Redis on every call. */
  link: RedisLink;
  converter: DataConverter;
  /** Workflow classes registered in this process (validation, queries). */
  registry: DurableRegistry;
  writes: WorkflowWrites;
  dispatcher: Dispatcher;
  queues: QueueSet;
  /** Wakes a caller waiting for a workflow's close or an update's result. */
  watcher: ClosedWatcher;
  metrics: DurableMetrics;
  /** Workflow time: deadlines of workflow timeouts are set from it; a test environment moves it. */
  clock: Clock;
  /** `buildId`: this process's build (recorded with each run it starts). */
  settings: { leaseTtlMs: number; retentionMs: number; buildId?: string };
  /** What a close from outside a task (terminate, reset) means for the run's jobs, parent and children. */
  runs: RunClosing;
  /** Eager start: this process runs the first task of the runs it starts when it serves their task queue. */
  firstTasks: FirstTasks;
  /** Eager activities' claims (describe() shows a claimed activity as running, on its worker). */
  claims: Pick<ActivityClaims, 'claimsOf'>;
  /** Checks the task tokens given to `client.activity`. */
  tokens: TaskTokens;
  /** Queries and updates asked of (and answered by) workers, for processes without the workflow's class. */
  messages: WorkerMessages;
  /** Flow control's slots and windows (issue 24): `describe().waitingFor`, workflow limits. */
  flow: FlowControl;
  /** Workflow concurrency slots: a start over the limit waits, a close frees its slot. */
  slots: WorkflowSlots;
  /** Pinned runs' builds: `describe().pinnedBuild`, `handle.updateBuild()`. */
  builds: BuildPins;
}
