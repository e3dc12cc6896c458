// The order workflow of docs/concepts/search-attributes.md, and a WorkflowClient as the app injects it.
import { Workflow, WorkflowClient, WorkflowRun } from 'redurable';
import { upsertSearchAttributes, workflowInfo } from 'redurable/workflow';

@Workflow({
  taskQueue: 'orders',
  searchAttributes: { customerId: 'keyword', amount: 'number', vip: 'bool', stage: 'keyword', shippedAt: 'datetime' },
})
export class OrderWorkflow {
  @WorkflowRun()
  async run(orderId: string): Promise<string> {
    upsertSearchAttributes({ stage: 'shipped', shippedAt: new Date() });
    return `order ${orderId}: ${String(workflowInfo().searchAttributes.stage)}`;
  }
}

/** The app's `WorkflowClient` (inject it in a provider's constructor). */
declare const client: WorkflowClient;
