// The payment workflow of docs/concepts/workflow-ids.md, and a WorkflowClient as the app injects it.
import {
  Signal,
  Workflow,
  WorkflowAlreadyStartedError,
  WorkflowClient,
  WorkflowIdReuseError,
  WorkflowRun,
} from 'redurable';
import { condition } from 'redurable/workflow';

export interface PaymentInput {
  orderId: string;
  amount: number;
}

@Workflow({ taskQueue: 'payments' })
export class PaymentWorkflow {
  private confirmed = false;

  @WorkflowRun()
  async run(input: PaymentInput): Promise<string> {
    const confirmed = await condition(() => this.confirmed, '1 day');
    return confirmed ? `order ${input.orderId} paid` : `order ${input.orderId} expired`;
  }

  @Signal()
  confirm(): void {
    this.confirmed = true;
  }
}

/** The app's `WorkflowClient` (inject it in a provider's constructor). */
declare const client: WorkflowClient;
