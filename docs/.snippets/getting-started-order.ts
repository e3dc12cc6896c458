// The order workflow of docs/getting-started.md (steps 3 and 4), for the guides' test examples.
import { Injectable } from '@nestjs/common';
import { Activities, Activity, ApplicationFailure, Signal, Workflow, WorkflowRun, activityContext } from 'redurable';
import { Saga, condition } from 'redurable/workflow';

export interface Order {
  id: string;
  sku: string;
  quantity: number;
  card: string;
}

@Injectable()
@Activities()
export class OrderActivities {
  @Activity({ compensatedBy: 'releaseStock' })
  async reserveStock(order: Order): Promise<void> {
    console.log(`reserved ${order.quantity} ${order.sku} for ${order.id}`);
  }

  @Activity()
  async releaseStock(order: Order): Promise<void> {
    console.log(`released ${order.quantity} ${order.sku} for ${order.id}`);
  }

  @Activity({ retry: { maximumAttempts: 3, initialInterval: '100ms' } })
  async charge(order: Order): Promise<string> {
    if (order.card === 'declined') throw ApplicationFailure.nonRetryable('card declined', 'CardDeclined');
    const { idempotencyKey } = activityContext();
    console.log(`charged ${order.id} (idempotency key ${idempotencyKey})`);
    return `payment-${order.id}`;
  }
}

@Workflow({ taskQueue: 'orders' })
export class OrderWorkflow {
  private confirmed = false;

  constructor(private readonly activities: OrderActivities) {}

  @WorkflowRun()
  async run(order: Order): Promise<string> {
    const saga = new Saga();
    const steps = saga.proxy(this.activities);
    try {
      await steps.reserveStock(order);
      if (!(await condition(() => this.confirmed, '1 hour'))) {
        throw ApplicationFailure.nonRetryable(`order ${order.id} was not confirmed within an hour`, 'NotConfirmed');
      }
      const payment = await steps.charge(order);
      return `${order.id}: paid (${payment})`;
    } catch (err) {
      await saga.compensate();
      throw err;
    }
  }

  @Signal()
  confirm(): void {
    this.confirmed = true;
  }
}
