import { afterEach, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Activities, Activity, Query, Signal, Update, Workflow, WorkflowRun, type HistoryEvent } from 'redurable';
import { replayHistory } from 'redurable/testing';
import { condition } from 'redurable/workflow';
import { createTestApp, type TestApp } from '../support/test-app.js';

/** A class that arguments declare: not registered anywhere. */
class Money {
  constructor(
    readonly amount: number,
    readonly currency: string,
  ) {}
  plus(other: Money): Money {
    return new Money(this.amount + other.amount, this.currency);
  }
  format(): string {
    return `${this.amount} ${this.currency}`;
  }
}

/** A class registered with `payloadClasses`: it arrives as an instance wherever it is. */
class Receipt {
  constructor(
    readonly charged: number,
    readonly currency: string,
    readonly at: Date,
  ) {}
  describe(): string {
    return `charged ${this.charged} ${this.currency} on ${this.at.toISOString().slice(0, 10)}`;
  }
}

@Injectable()
@Activities()
class ShopActivities {
  @Activity() async charge(total: Money): Promise<{ receipt: Receipt }> {
    return { receipt: new Receipt(total.plus(new Money(0, total.currency)).amount, total.currency, new Date(0)) };
  }
}

@Workflow({ taskQueue: 'payload-classes' })
class ShopWorkflow {
  private total?: Money;
  private done = false;
  private readonly log: string[] = [];

  constructor(private readonly shop: ShopActivities) {}

  @WorkflowRun()
  async run(price: Money): Promise<{ receipt: Receipt; log: string[] }> {
    this.log.push(`run ${price.format()}`);
    this.total = price;
    await condition(() => this.done);
    const { receipt } = await this.shop.charge(this.total);
    this.log.push(receipt.describe());
    return { receipt, log: this.log };
  }

  @Signal() add(extra: Money): void {
    this.log.push(`signal ${extra.format()}`);
    this.total = this.total!.plus(extra);
  }

  @Update({
    validator(tip: Money) {
      if (tip.format().startsWith('-')) throw new Error('a tip cannot be negative');
    },
  })
  async finish(tip: Money): Promise<Money> {
    this.log.push(`update ${tip.format()}`);
    this.total = this.total!.plus(tip);
    this.done = true;
    return this.total;
  }

  @Query() seen(): string[] {
    return this.log;
  }
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

test('arguments declared as a class arrive as instances of it (run, signal, update and its validator, activity), a payloadClasses class anywhere in a result too, and replays agree', async () => {
  // No cache: every workflow task replays the history, so each argument is decoded again each time.
  t = await createTestApp([ShopActivities, ShopWorkflow], { payloadClasses: [Receipt], workflowCacheSize: 0 });
  const handle = await t.client.start(ShopWorkflow, { workflowId: 'shop-1', args: [new Money(10, 'EUR')] });
  await handle.signal('add', new Money(2, 'EUR'));
  await expect(handle.executeUpdate('finish', new Money(-1, 'EUR'))).rejects.toThrow('a tip cannot be negative');
  // A caller may pass the fields alone: the validator and the handler get a Money all the same.
  const total = await handle.executeUpdate('finish', { amount: 1, currency: 'EUR' } as unknown as Money);
  expect(total).toEqual({ amount: 13, currency: 'EUR' }); // Money is not registered: its fields
  const { receipt, log } = await handle.result();
  expect(receipt).toBeInstanceOf(Receipt);
  expect(receipt.describe()).toBe('charged 13 EUR on 1970-01-01');
  expect(log).toEqual(['run 10 EUR', 'signal 2 EUR', 'update 1 EUR', 'charged 13 EUR on 1970-01-01']);
  await expect(handle.query('seen')).resolves.toEqual(log);

  // The history records the registered class by name; replaying it offline gives the same instances.
  const history = await handle.fetchHistory();
  const completed = history.find((e) => e.type === 'ActivityTaskCompleted') as Extract<
    HistoryEvent,
    { type: 'ActivityTaskCompleted' }
  >;
  expect(completed.result).toContain('["class","Receipt"]');
  const replayed = await replayHistory(ShopWorkflow, history, { payloadClasses: [Receipt] });
  expect((replayed.result as { receipt: Receipt }).receipt).toBeInstanceOf(Receipt);
  expect((replayed.result as { log: string[] }).log).toEqual(log);
});
