// The order workflow of docs/concepts/versioning.md (with its fraud check behind patched()), and its activities.
import { Injectable } from '@nestjs/common';
import { Activities, Activity, Workflow, WorkflowClient, WorkflowRun } from 'redurable';
import { patched } from 'redurable/workflow';

export interface Order {
  orderId: string;
  amount: number;
}

@Injectable()
@Activities()
export class OrderActivities {
  @Activity() async checkFraud(order: Order): Promise<void> {}
  @Activity() async charge(order: Order): Promise<void> {}
  @Activity() async ship(order: Order): Promise<void> {}
}

@Workflow({ taskQueue: 'orders' })
export class OrderWorkflow {
  constructor(private readonly acts: OrderActivities) {}

  @WorkflowRun()
  async run(order: Order): Promise<void> {
    if (patched('fraud-check')) await this.acts.checkFraud(order);
    await this.acts.charge(order);
    await this.acts.ship(order);
  }
}

/** The app's `WorkflowClient` (inject it in a provider's constructor). */
declare const client: WorkflowClient;
