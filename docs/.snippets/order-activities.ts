// The order activities of docs/concepts/versioning.md, for blocks that declare a version of OrderWorkflow.
import { Injectable } from '@nestjs/common';
import { Activities, Activity, Workflow, WorkflowRun } from 'redurable';
import { deprecatePatch, patched } from 'redurable/workflow';

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
