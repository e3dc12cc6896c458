import type { RedisLink } from '../store/redis-link.js';
import type { DurableRegistry } from '../core/definitions/registry.js';
import type { HistoryReader, HistoryWriter, Lease, ListingIndex, WorkflowCatalog } from '../core/ports/index.js';
import type { DurableMetrics } from '../observability/metrics.js';
import type { DataConverter } from '../core/payload/data-converter.js';
import type { ClosedWatcher } from '../store/closed-watcher.js';
import type { Dispatcher } from '../queues/dispatcher.js';
import type { QueueSet } from '../queues/queue-set.js';
import type { WorkflowWrites } from '../queues/workflow-writes.js';
import type { ScheduleContext } from './schedules/schedule-client.js';

/** What the client and its handles use: the parts of the runtime they need, and nothing else. */
export interface ClientContext {
  /** Workflow metas and histories: read, and written from outside a task. */
  store: HistoryReader & HistoryWriter;
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
  watcher: ClosedWatcher;
  metrics: DurableMetrics;
  retentionMs: number;
  leaseTtlMs: number;
  /** Workflow time (ms): deadlines of workflow timeouts are set from it; a test environment moves it. */
  now(): number;
  /** What `client.schedule` uses. */
  schedules: ScheduleContext;
  /** Whether this process has workers for a task queue (then it runs the first task of the runs it starts: eager start). */
  serves(taskQueue: string): boolean;
  /**
   * Runs a new run's first workflow task in this process, without a job, under the lease the
   * start took (or taking one); false when it cannot (shutting down) and a task job is needed.
   */
  runFirstTask(workflowId: string, runId: string, taskQueue: string, lease?: Lease): boolean;
}
