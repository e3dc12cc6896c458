import type { SearchAttributeDeclarations } from '../search/search-attributes.js';

/**
 * What a prefix records about the app rather than about one workflow: the workflow types and
 * search attributes its workers declared (so a client without the classes can validate names),
 * and each task queue's partition count.
 */

/**
 * A workflow type's concurrency limit as its workers registered it, for starts by type name in a
 * process without the class: `keyed` when its key comes from the class's key function.
 */
export interface RegisteredLimit {
  name: string;
  limit: number;
  keyed: boolean;
}

/** What a worker registers of a workflow type. */
export interface WorkflowTypeRecord {
  name: string;
  taskQueue: string;
  searchAttributes: SearchAttributeDeclarations;
  concurrency?: { name: string; limit: number; key?: unknown };
}

/** Workflow types and search attribute declarations registered by workers. */
export interface WorkflowCatalog {
  /** Remembers the workflow types a worker serves: their names, task queues, search attribute declarations and limits. */
  registerWorkflowTypes(types: WorkflowTypeRecord[]): Promise<void>;
  /** Whether some worker registered this workflow type name. */
  isKnownWorkflowType(type: string): Promise<boolean>;
  /** The type's task queue and concurrency limit as its workers registered them (one round trip). */
  workflowRegistration(type: string): Promise<{ taskQueue?: string; limit?: RegisteredLimit }>;
  /** Search attribute declarations workers registered, by workflow type. */
  searchAttributeDeclarations(): Promise<Record<string, SearchAttributeDeclarations>>;
}

/** Partition counts of task queues: recorded once, never changed. */
export interface PartitionRecords {
  /**
   * Records partition counts of task queues that have none recorded; returns the recorded
   * count of each (which may differ from the one asked for).
   */
  recordPartitions(counts: Record<string, number>): Promise<Record<string, number>>;
  /** The recorded partition count of a task queue, if any. */
  recordedPartitions(taskQueue: string): Promise<number | undefined>;
}
