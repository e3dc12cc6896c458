import { WorkflowHandle, type HandleParts } from '../workflow-handle.js';
import type { StartWorkflowOptions, WorkflowStarter } from '../workflow-starter.js';
import type { ScheduledWorkflows } from './schedule-processor.js';

/** What schedules do to their workflows, through the client's own calls (spans, bounded waits, id policies). */
export class ScheduledWorkflowCalls implements ScheduledWorkflows {
  constructor(
    private readonly parts: HandleParts,
    private readonly starter: WorkflowStarter,
  ) {}

  start(workflowType: string, options: StartWorkflowOptions): Promise<{ runId: string }> {
    return this.starter.start(workflowType, options);
  }

  cancel(workflowId: string, reason: string): Promise<void> {
    return new WorkflowHandle(this.parts, workflowId).cancel(reason);
  }

  terminate(workflowId: string, reason: string): Promise<void> {
    return new WorkflowHandle(this.parts, workflowId).terminate(reason);
  }
}
