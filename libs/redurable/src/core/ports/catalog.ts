import type { SearchAttributeDeclarations } from '../search/search-attributes.js';

/**
 * What a prefix records about the app rather than about one workflow: the workflow types and
 * search attributes its workers declared (so a client without the classes can validate names),
 * and each task queue's partition count.
 */

/** Workflow types and search attribute declarations registered by workers. */
export interface WorkflowCatalog {
  /** Remembers the workflow types a worker serves: their names, task queues and search attribute declarations. */
  registerWorkflowTypes(
    types: { name: string; taskQueue: string; searchAttributes: SearchAttributeDeclarations }[],
  ): Promise<void>;
  /** Whether some worker registered this workflow type name. */
  isKnownWorkflowType(type: string): Promise<boolean>;
  /** The task queue a worker registered the type on, if any (workers of older versions recorded none). */
  workflowTaskQueue(type: string): Promise<string | undefined>;
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
