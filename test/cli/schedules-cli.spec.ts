import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Workflow, WorkflowRun } from 'redurable';
import { createTestApp, testRedisUrl, type TestApp } from '../support/test-app.js';

/** The `redurable` command as a user runs it: the package's compiled bin, in its own process. */
const BIN = fileURLToPath(new URL('../../libs/redurable/dist/cli/main.js', import.meta.url));

function redurable(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const { REDIS_URL: _omit, ...env } = process.env;
    execFile(process.execPath, [BIN, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

@Workflow({ taskQueue: 'cli-schedules' })
class CliReportWorkflow {
  @WorkflowRun() async run(kind: string) {
    return kind;
  }
}

let t: TestApp;
let flags: string[];

beforeAll(async () => {
  t = await createTestApp([CliReportWorkflow]);
  flags = ['--redis', testRedisUrl(), '--prefix', t.prefix];
  await t.client.schedule.create({
    scheduleId: 'daily',
    spec: { cron: '0 0 6 * * *', timezone: 'UTC' },
    action: { workflow: CliReportWorkflow, args: ['daily'] },
  });
});

afterAll(async () => {
  await t?.close();
});

describe('redurable schedule', () => {
  test('list and describe show the schedule, its spec and next fire times', async () => {
    const list = await redurable(['schedule', 'list', ...flags]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SCHEDULE ID\s+WORKFLOW TYPE\s+SPEC\s+STATE\s+NEXT FIRE\s+RUNNING$/);
    expect(lines[1]).toMatch(
      /^daily\s+CliReportWorkflow\s+cron '0 0 6 \* \* \*' UTC\s+active\s+\d{4}-\d\d-\d\dT06:00:00\.000Z\s+0$/,
    );
    const described = await redurable(['schedule', 'describe', 'daily', ...flags]);
    expect(described.stdout).toContain(
      'Action     CliReportWorkflow on cli-schedules, id {scheduleId}-{fireTime}, args ["daily"]',
    );
    expect(described.stdout).toContain('Policies   overlap SKIP, catch-up ALL within 3600000 ms');
    const asJson = JSON.parse((await redurable(['schedule', 'describe', 'daily', '--json', ...flags])).stdout);
    expect(asJson.nextFireTimes).toHaveLength(5);
  });

  test('pause and unpause with a note, trigger starts a workflow, delete removes the schedule', async () => {
    expect((await redurable(['schedule', 'pause', 'daily', '--note', 'db migration', ...flags])).stdout.trim()).toBe(
      "Schedule 'daily' paused",
    );
    expect(await t.client.schedule.describe('daily')).toMatchObject({ paused: true, note: 'db migration' });
    expect((await redurable(['schedule', 'list', ...flags])).stdout).toMatch(/daily.*paused/);
    expect((await redurable(['schedule', 'unpause', 'daily', '--note', 'done', ...flags])).code).toBe(0);
    expect(await t.client.schedule.describe('daily')).toMatchObject({ paused: false, note: 'done' });

    const trigger = await redurable(['schedule', 'trigger', 'daily', '--json', ...flags]);
    expect(trigger.code).toBe(0);
    const action = JSON.parse(trigger.stdout);
    expect(action).toMatchObject({ cause: 'trigger', outcome: 'started' });
    expect(await t.client.getHandle(action.workflowId).result()).toBe('daily');

    expect((await redurable(['schedule', 'delete', 'daily', ...flags])).stdout.trim()).toBe("Schedule 'daily' deleted");
    expect(await t.client.schedule.list()).toEqual([]);
  });

  test('backfill fires every spec time in the range, once however often it is asked', async () => {
    await t.client.schedule.create({
      scheduleId: 'hourly-cli',
      spec: { cron: '0 0 * * * *', timezone: 'UTC' },
      action: { workflow: CliReportWorkflow, args: ['h'] },
    });
    const range = ['--from', '2026-11-01T00:00:00Z', '--to', '2026-11-01T02:00:00Z'];
    const first = await redurable(['schedule', 'backfill', 'hourly-cli', ...range, ...flags]);
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split('\n')).toEqual(
      [0, 1, 2].map((h) => `2026-11-01T0${h}:00:00.000Z  started  hourly-cli-2026-11-01T0${h}:00:00.000Z`),
    );
    expect(await t.client.getHandle('hourly-cli-2026-11-01T01:00:00.000Z').result()).toBe('h');
    await redurable(['schedule', 'backfill', 'hourly-cli', ...range, ...flags]);
    expect((await t.client.list({ idPrefix: 'hourly-cli-' })).workflows).toHaveLength(3);
    const bad = await redurable([
      'schedule',
      'backfill',
      'hourly-cli',
      '--from',
      'yesterday',
      '--to',
      '2026-11-01T02:00:00Z',
      ...flags,
    ]);
    expect([bad.code, bad.stderr.trim()]).toEqual([
      2,
      "redurable: --from must be an ISO 8601 date-time such as 2026-11-01T00:00:00Z, not 'yesterday'",
    ]);
  });

  test('an unknown schedule id exits with code 3 and says so', async () => {
    const run = await redurable(['schedule', 'describe', 'nope', ...flags]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("redurable: Schedule 'nope' was not found");
  });
});
