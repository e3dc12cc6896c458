import type { WorkflowActivation } from '../workflow/activation.js';

/**
 * Live workflow executions kept in memory, least recently used evicted first. A cached
 * execution is fed only new events; an evicted one is rebuilt by replaying its history.
 */
export class WorkflowCache {
  private readonly entries = new Map<string, WorkflowActivation>();

  constructor(readonly maxSize: number) {}

  get(workflowId: string, runId: string): WorkflowActivation | undefined {
    const activation = this.entries.get(workflowId);
    if (!activation) return undefined;
    if (activation.info.runId !== runId) {
      this.entries.delete(workflowId);
      return undefined;
    }
    this.entries.delete(workflowId);
    this.entries.set(workflowId, activation);
    return activation;
  }

  /** Whether the cached execution of the workflow is of run `runId` (nothing is evicted or moved). */
  holds(workflowId: string, runId: string): boolean {
    return this.entries.get(workflowId)?.info.runId === runId;
  }

  set(activation: WorkflowActivation): void {
    if (this.maxSize <= 0) return;
    const id = activation.info.workflowId;
    this.entries.delete(id);
    this.entries.set(id, activation);
    while (this.entries.size > this.maxSize) this.entries.delete(this.entries.keys().next().value as string);
  }

  evict(workflowId: string): void {
    this.entries.delete(workflowId);
  }

  /** Drops every cached execution (the next task of each replays from history). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
