import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Signal, Workflow, WorkflowRun, type ScheduleDescription, type ScheduleOverlapPolicy } from 'redurable';
import { condition } from 'redurable/workflow';
import { TestWorkflowEnvironment } from 'redurable/testing';
import { testConnection } from '../support/test-app.js';
import { until } from '../support/until.js';

const HOUR = 3_600_000;

/** Runs until signalled: a fire that comes meanwhile overlaps it. */
@Workflow({ taskQueue: 'sched-overlap' })
class WaiterWorkflow {
  private done = false;

  @WorkflowRun()
  async run(): Promise<string> {
    await condition(() => this.done);
    return 'finished';
  }

  @Signal() finish(): void {
    this.done = true;
  }
}

const POLICIES: ScheduleOverlapPolicy[] = ['SKIP', 'BUFFER_ONE', 'ALLOW_ALL', 'CANCEL_OTHER', 'TERMINATE_OTHER'];
const outcomes = (d: ScheduleDescription) =>
  [...d.recentActions].reverse().map((a) => `${a.outcome} ${a.workflowId?.slice(-13, -8) ?? ''}`.trim());

describe('schedules: overlap policies when the previous run is still open', () => {
  let env: TestWorkflowEnvironment;
  let fire: number[];
  const idOf = (policy: string, n: number) => `${policy}-${new Date(fire[n]).toISOString()}`;
  const hhmm = (n: number) => new Date(fire[n]).toISOString().slice(11, 16);
  const describeOf = (policy: string) => env.client.schedule.describe(policy);

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.create({ connection: testConnection(), providers: [WaiterWorkflow] });
    for (const overlap of POLICIES) {
      await env.client.schedule.create({
        scheduleId: overlap,
        spec: { cron: '0 0 * * * *' },
        action: { workflow: WaiterWorkflow },
        policies: { overlap },
      });
    }
    const first = Math.ceil((env.now() + 1) / HOUR) * HOUR;
    fire = [first, first + HOUR, first + 2 * HOUR];
    await env.advanceTime('3 hours'); // three fires while the first runs is still open
  });
  afterAll(async () => {
    await env.close();
  });

  test('SKIP (the default) records the later fires as skipped and starts nothing', async () => {
    const d = await describeOf('SKIP');
    expect(outcomes(d)).toEqual([`started ${hhmm(0)}`, 'skipped', 'skipped']);
    expect(d.recentActions[0].reason).toBe(`overlap policy SKIP: ${idOf('SKIP', 0)} still running`);
    expect(d.running.map((r) => r.workflowId)).toEqual([idOf('SKIP', 0)]);
    expect(d.counts).toMatchObject({ started: 1, skipped: 2 });
  });

  test('ALLOW_ALL starts every fire', async () => {
    const d = await describeOf('ALLOW_ALL');
    expect(outcomes(d)).toEqual([0, 1, 2].map((n) => `started ${hhmm(n)}`));
    expect(d.running.map((r) => r.workflowId).sort()).toEqual([0, 1, 2].map((n) => idOf('ALLOW_ALL', n)));
  });

  test('TERMINATE_OTHER terminates the running workflow and starts the new fire at once', async () => {
    const d = await describeOf('TERMINATE_OTHER');
    expect(outcomes(d)).toEqual([0, 1, 2].map((n) => `started ${hhmm(n)}`));
    expect(d.running.map((r) => r.workflowId)).toEqual([idOf('TERMINATE_OTHER', 2)]);
    expect((await env.client.getHandle(idOf('TERMINATE_OTHER', 0)).describe()).status).toBe('terminated');
    expect((await env.client.getHandle(idOf('TERMINATE_OTHER', 1)).describe()).status).toBe('terminated');
  });

  test('BUFFER_ONE keeps one fire (later ones are skipped) and starts it when the running workflow closes', async () => {
    let d = await describeOf('BUFFER_ONE');
    expect(outcomes(d)).toEqual([`started ${hhmm(0)}`, 'buffered', 'skipped']);
    expect(d.bufferedFireTime?.getTime()).toBe(fire[1]);
    await env.client.getHandle(idOf('BUFFER_ONE', 0)).signal('finish');
    d = await until('the buffered fire to start', async () => {
      const now = await describeOf('BUFFER_ONE');
      return now.counts.started === 2 ? now : undefined;
    });
    expect(d.recentActions[0]).toMatchObject({
      outcome: 'started',
      workflowId: idOf('BUFFER_ONE', 1),
      fireTime: new Date(fire[1]),
    });
    expect(d.bufferedFireTime).toBeUndefined();
    expect(d.running.map((r) => r.workflowId)).toEqual([idOf('BUFFER_ONE', 1)]);
  });

  test('CANCEL_OTHER requests cancellation of the running workflow and starts the new fire once it has closed', async () => {
    // Each fire cancels the run of the previous one; the cancelled run closes within the hour, and the fire starts.
    const d = await until('the three fires to start', async () => {
      const now = await describeOf('CANCEL_OTHER');
      return now.counts.started === 3 ? now : undefined;
    });
    expect(outcomes(d)).toEqual([
      `started ${hhmm(0)}`,
      'buffered',
      `started ${hhmm(1)}`,
      'buffered',
      `started ${hhmm(2)}`,
    ]);
    expect(d.recentActions[1].reason).toBe(
      `overlap policy CANCEL_OTHER: cancellation of ${idOf('CANCEL_OTHER', 1)} requested; starts when it has closed`,
    );
    for (const n of [0, 1]) {
      const run = await env.client.getHandle(idOf('CANCEL_OTHER', n)).describe();
      expect([run.status, run.failure?.message]).toEqual([
        'canceled',
        `Workflow '${idOf('CANCEL_OTHER', n)}' was cancelled: cancelled by schedule 'CANCEL_OTHER' (overlap policy CANCEL_OTHER)`,
      ]);
    }
    expect(d.running.map((r) => r.workflowId)).toEqual([idOf('CANCEL_OTHER', 2)]);
  });
});
