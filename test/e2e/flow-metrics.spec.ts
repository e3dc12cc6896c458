import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Registry } from 'prom-client';
import { Activities, Activity, Signal, Workflow, WorkflowRun } from 'redurable';
import { condition, proxyActivities } from 'redurable/workflow';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

/** Opens when the test says so: the activities holding their slot finish then. */
let openGate!: () => void;
const gate = new Promise<void>((resolve) => (openGate = resolve));

@Activities()
class MeterActivities {
  /** At most one per account at once, across every worker. */
  @Activity({ concurrency: { limit: 1, key: (account: string) => account } })
  async meter(account: string): Promise<string> {
    await gate;
    return account;
  }
}

/** At most 2 per tenant at once; each runs until told to finish. */
@Workflow({ taskQueue: 'flow-metrics', concurrency: { limit: 2, key: (tenant: string) => tenant } })
class HoldWorkflow {
  private finished = false;

  @WorkflowRun()
  async run(_tenant: string): Promise<void> {
    await condition(() => this.finished);
  }

  @Signal() finish(): void {
    this.finished = true;
  }
}

/** Meters one account `count` times at once. */
@Workflow({ taskQueue: 'flow-metrics' })
class MeterWorkflow {
  private readonly acts = proxyActivities(MeterActivities, { eager: false });

  @WorkflowRun()
  async run(account: string, count: number): Promise<string[]> {
    return Promise.all(Array.from({ length: count }, () => this.acts.meter(account)));
  }
}

let app: TestApp;
const registry = new Registry();

beforeAll(async () => {
  app = await createTestApp([MeterActivities, HoldWorkflow, MeterWorkflow], {
    metrics: { registry },
    taskQueues: ['flow-metrics'],
  });
});
afterAll(async () => {
  openGate();
  await app.close();
});

/** The gauges of one limit in the scraped text (undefined: no sample). */
async function gauges(limit: string): Promise<{ running?: number; waiting?: number }> {
  const text = await registry.metrics();
  const sample = (metric: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${metric}{limit="${limit}"} `));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  return { running: sample('redurable_flow_running'), waiting: sample('redurable_flow_waiting') };
}

/** Waits until the gauges of `limit` read `expected` (they are read from Redis at each scrape). */
async function gaugesReach(limit: string, expected: { running: number; waiting: number }): Promise<void> {
  let last: unknown;
  await until(
    `${limit}'s gauges to read ${JSON.stringify(expected)}`,
    async () => {
      last = await gauges(limit);
      return JSON.stringify(last) === JSON.stringify(expected);
    },
    30_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last read ${JSON.stringify(last)}`);
  });
}

describe('flow control metrics', () => {
  test('redurable_flow_running and redurable_flow_waiting count every holder and waiter per limit name, never per key', async () => {
    // Workflows: 3 of tenant-a (limit 2 per tenant), 1 of tenant-b: 3 hold a slot, 1 waits.
    const tenants = ['tenant-a', 'tenant-a', 'tenant-a', 'tenant-b'];
    const holds = await Promise.all(
      tenants.map((tenant, i) => app.client.start(HoldWorkflow, { workflowId: `hold-${i}`, args: [tenant] })),
    );
    // Activities: 3 calls for one account (limit 1 per account): 1 runs, 2 wait.
    const meter = await app.client.start(MeterWorkflow, { workflowId: 'meter', args: ['account-7', 3] });

    await gaugesReach('HoldWorkflow', { running: 3, waiting: 1 });
    await gaugesReach('meter', { running: 1, waiting: 2 });
    // The labels name the limits only: no key is a label value.
    const text = await registry.metrics();
    expect(text).toContain('# TYPE redurable_flow_running gauge');
    expect(text).toContain('# TYPE redurable_flow_waiting gauge');
    for (const key of ['tenant-a', 'tenant-b', 'account-7']) expect(text).not.toContain(key);

    for (const h of holds) await h.signal('finish');
    openGate();
    await Promise.all(holds.map((h) => h.result()));
    await expect(meter.result()).resolves.toEqual(['account-7', 'account-7', 'account-7']);
    await gaugesReach('HoldWorkflow', { running: 0, waiting: 0 });
    await gaugesReach('meter', { running: 0, waiting: 0 });
  });
});
