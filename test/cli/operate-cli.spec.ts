import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  ApplicationFailure,
  ActivityFailure,
  Workflow,
  WorkflowNotFoundError,
  WorkflowRun,
  activityContext,
} from 'redurable';
import { createTestApp, testRedisUrl, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

/** The `redurable` command as a user runs it: the package's compiled bin, in its own process. */
const BIN = fileURLToPath(new URL('../../libs/redurable/dist/cli/main.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command with the environment given (none of the user's REDIS_URL or REDURABLE_* variables). */
function redurable(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const { REDIS_URL: _url, REDURABLE_PREFIX: _prefix, REDURABLE_TASK_TOKEN_SECRET: _secret, ...rest } = process.env;
    execFile(process.execPath, [BIN, ...args], { env: { ...rest, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Task tokens the approval activity handed out, by workflow id. */
const tokens = new Map<string, string>();

@Injectable()
@Activities()
class CliApprovals {
  @Activity({ startToCloseTimeout: '1h' })
  async approve(what: string): Promise<string> {
    tokens.set(activityContext().workflowId, activityContext().completeAsync());
    return `ignored: ${what}`;
  }
}

/** Started by type name from the command line: no --task-queue, yet it must run on 'cli-ops'. */
@Workflow({ taskQueue: 'cli-ops' })
class CliOrderWorkflow {
  @WorkflowRun()
  async run(name: string, count: number, options?: { gift: boolean }) {
    return `${count} for ${name}${options?.gift ? ' (gift)' : ''}`;
  }
}

@Workflow({ taskQueue: 'cli-ops' })
class CliApprovalWorkflow {
  constructor(private readonly approvals: CliApprovals) {}

  @WorkflowRun()
  async run(): Promise<unknown> {
    try {
      return await this.approvals.approve('expense 42');
    } catch (err) {
      const cause = (err as ActivityFailure).cause as ApplicationFailure;
      return `failed: ${cause.type}: ${cause.message}`;
    }
  }
}

let t: TestApp;
let flags: string[];
let dir: string;

beforeAll(async () => {
  t = await createTestApp([CliApprovals, CliOrderWorkflow, CliApprovalWorkflow]);
  flags = ['--redis', testRedisUrl(), '--prefix', t.prefix];
  dir = mkdtempSync(join(tmpdir(), 'redurable-cli-'));
});

afterAll(async () => {
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A file in the test's directory. */
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('redurable workflow start', () => {
  test('starts a workflow by type name with its arguments in order, on the task queue its worker registered', async () => {
    const run = await redurable([
      'workflow',
      'start',
      'CliOrderWorkflow',
      '--workflow-id',
      'order-1',
      '--input',
      '"ada"',
      '--input',
      '3',
      '--input',
      '{"gift":true}',
      ...flags,
    ]);
    expect(run.code).toBe(0);
    const { runId } = await t.client.getHandle('order-1').describe();
    expect(run.stdout).toBe(`Workflow 'order-1' (CliOrderWorkflow) started: run ${runId}\n`);
    expect(await t.client.getHandle('order-1').result()).toBe('3 for ada (gift)');

    const asJson = await redurable([
      'workflow',
      'start',
      'CliOrderWorkflow',
      '--workflow-id',
      'order-2',
      '--task-queue',
      'cli-ops',
      '--execution-timeout',
      '1h',
      '--input',
      '"bob"',
      '--input',
      '1',
      '--json',
      ...flags,
    ]);
    expect(asJson.code).toBe(0);
    const started = JSON.parse(asJson.stdout) as { workflowId: string; runId: string };
    expect(started).toEqual({ workflowId: 'order-2', runId: expect.any(String) });
    expect(await t.client.getHandle('order-2').result()).toBe('1 for bob');
    const described = await t.client.getHandle('order-2').describe();
    expect(described.runId).toBe(started.runId);
    expect(described.executionDeadline).toBeDefined();
  });

  test('an unknown type, bad input and a refused id policy exit non-zero with one line, writing nothing', async () => {
    const unknown = await redurable(['workflow', 'start', 'NoSuchWorkflow', '--workflow-id', 'nobody-1', ...flags]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^redurable: Unknown workflow type 'NoSuchWorkflow': no process of this prefix/);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    await expect(t.client.getHandle('nobody-1').describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);

    const notJson = await redurable([
      'workflow',
      'start',
      'CliOrderWorkflow',
      '--workflow-id',
      'nobody-2',
      '--input',
      'ada',
      ...flags,
    ]);
    expect([notJson.code, notJson.stderr]).toEqual([
      2,
      `redurable: --input 1 (ada) is not JSON: quote strings, for example '"ada"', and pass numbers and objects as JSON\n`,
    ]);
    const badTimeout = await redurable([
      'workflow',
      'start',
      'CliOrderWorkflow',
      '--workflow-id',
      'nobody-3',
      '--execution-timeout',
      'soon',
      ...flags,
    ]);
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toContain('--execution-timeout');
    const noId = await redurable(['workflow', 'start', 'CliOrderWorkflow', ...flags]);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain("required option '--workflow-id <id>' not specified");
    for (const id of ['nobody-2', 'nobody-3'])
      await expect(t.client.getHandle(id).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);

    await t.client.execute('CliOrderWorkflow', { workflowId: 'order-once', args: ['cy', 2] });
    const rejected = await redurable([
      'workflow',
      'start',
      'CliOrderWorkflow',
      '--workflow-id',
      'order-once',
      '--id-reuse-policy',
      'REJECT_DUPLICATE',
      '--input',
      '"cy"',
      '--input',
      '2',
      ...flags,
    ]);
    expect(rejected.code).toBe(7);
    expect(rejected.stderr).toContain("'order-once'");
    const badPolicy = await redurable([
      'workflow',
      'start',
      'CliOrderWorkflow',
      '--workflow-id',
      'order-once',
      '--id-reuse-policy',
      'NEVER',
      ...flags,
    ]);
    expect(badPolicy.code).toBe(2);
    expect(badPolicy.stderr).toContain('REJECT_DUPLICATE');
  });
});

describe('redurable activity complete|fail', () => {
  async function waitingApproval(workflowId: string): Promise<string> {
    await t.client.start(CliApprovalWorkflow, { workflowId });
    await until(`the token of ${workflowId}`, () => tokens.has(workflowId));
    return tokens.get(workflowId)!;
  }

  test('complete gives the workflow the JSON result; fail fails the activity with a message or a JSON failure', async () => {
    const done = await redurable([
      'activity',
      'complete',
      await waitingApproval('approve-1'),
      '{"approvedBy":"ada"}',
      ...flags,
    ]);
    expect(done).toMatchObject({ code: 0, stdout: "Activity seq 1 of workflow 'approve-1' completed\n" });
    expect(await t.client.getHandle('approve-1').result()).toEqual({ approvedBy: 'ada' });

    const failed = await redurable([
      'activity',
      'fail',
      await waitingApproval('approve-2'),
      'no budget left',
      ...flags,
    ]);
    expect(failed).toMatchObject({ code: 0, stdout: "Activity seq 1 of workflow 'approve-2' failed\n" });
    expect(await t.client.getHandle('approve-2').result()).toBe('failed: Error: no budget left');

    const typed = await redurable([
      'activity',
      'fail',
      await waitingApproval('approve-3'),
      '{"message":"over the limit","type":"OverLimit"}',
      ...flags,
    ]);
    expect(typed.code).toBe(0);
    expect(await t.client.getHandle('approve-3').result()).toBe('failed: OverLimit: over the limit');

    const again = await redurable(['activity', 'complete', tokens.get('approve-1')!, ...flags]);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('is not waiting for completion');
  });

  test('a forged token is refused with InvalidTaskTokenError, nothing recorded', async () => {
    const token = await waitingApproval('approve-forged');
    const [payload] = token.split('.');
    const forged = `${payload}.${Buffer.from('x'.repeat(32)).toString('base64url')}`;
    const run = await redurable(['activity', 'complete', forged, '"yes"', ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^redurable: Invalid task token .*its signature does not match/);
    expect((await t.client.getHandle('approve-forged').describe()).status).toBe('running');
    await t.client.activity.complete(token, 'real');
    expect(await t.client.getHandle('approve-forged').result()).toBe('real');
  });

  test("an app's own taskTokenSecret is given with --task-token-secret or REDURABLE_TASK_TOKEN_SECRET", async () => {
    const secret = 's'.repeat(40);
    const app = await createTestApp([CliApprovals, CliApprovalWorkflow], { taskTokenSecret: secret });
    try {
      const own = ['--redis', testRedisUrl(), '--prefix', app.prefix];
      await app.client.start(CliApprovalWorkflow, { workflowId: 'secret-1' });
      await until('the token of secret-1', () => tokens.has('secret-1'));
      const without = await redurable(['activity', 'complete', tokens.get('secret-1')!, '1', ...own]);
      expect(without.code).toBe(2);
      expect(without.stderr).toContain('--task-token-secret');
      expect(without.stderr).toContain('REDURABLE_TASK_TOKEN_SECRET');
      const wrong = await redurable([
        'activity',
        'complete',
        tokens.get('secret-1')!,
        '1',
        '--task-token-secret',
        'w'.repeat(40),
        ...own,
      ]);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain('Invalid task token');
      const env = await redurable(['activity', 'complete', tokens.get('secret-1')!, '1', ...own], {
        REDURABLE_TASK_TOKEN_SECRET: secret,
      });
      expect(env.code).toBe(0);
      expect(await app.client.getHandle('secret-1').result()).toBe(1);

      await app.client.start(CliApprovalWorkflow, { workflowId: 'secret-2' });
      await until('the token of secret-2', () => tokens.has('secret-2'));
      const flag = await redurable([
        'activity',
        'fail',
        tokens.get('secret-2')!,
        '--task-token-secret',
        secret,
        ...own,
      ]);
      expect(flag.code).toBe(0);
      expect(await app.client.getHandle('secret-2').result()).toBe('failed: Error: failed with the redurable command');
    } finally {
      await app.close();
    }
  });
});

describe('redurable schedule create|update --file', () => {
  test('create reads the schedule from a JSON file; update changes it, keeping what the file leaves out', async () => {
    const created = await redurable([
      'schedule',
      'create',
      '--file',
      file('create.json', {
        scheduleId: 'cli-made',
        spec: { every: '1h', startAt: '2026-01-01T00:00:00Z' },
        action: { workflow: 'CliOrderWorkflow', args: ['eve', 4] },
        policies: { overlap: 'ALLOW_ALL' },
      }),
      ...flags,
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^Schedule 'cli-made' created: next fire \d{4}-\d\d-\d\dT\d\d:00:00\.000Z\n$/);
    const d = await t.client.schedule.describe('cli-made');
    expect(d).toMatchObject({
      spec: { everyMs: 3_600_000, startAt: new Date('2026-01-01T00:00:00Z') },
      action: { workflowType: 'CliOrderWorkflow', args: ['eve', 4] },
      policies: { overlap: 'ALLOW_ALL' },
      origin: 'client',
    });

    const updated = await redurable([
      'schedule',
      'update',
      'cli-made',
      '--file',
      file('update.json', { spec: { cron: '0 30 6 * * *', timezone: 'UTC' }, policies: { catchup: 'LAST' } }),
      '--json',
      ...flags,
    ]);
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({
      scheduleId: 'cli-made',
      spec: { cron: '0 30 6 * * *', timezone: 'UTC' },
      policies: { overlap: 'ALLOW_ALL', catchup: 'LAST' },
      action: { workflowType: 'CliOrderWorkflow', args: ['eve', 4] },
    });

    const triggered = await t.client.schedule.trigger('cli-made');
    expect(await t.client.getHandle(triggered.workflowId!).result()).toBe('4 for eve');
    const exists = await redurable([
      'schedule',
      'create',
      '--file',
      file('again.json', { scheduleId: 'cli-made', spec: { every: '1h' }, action: { workflow: 'CliOrderWorkflow' } }),
      ...flags,
    ]);
    expect(exists.code).toBe(7);
    expect(exists.stderr).toContain("Schedule 'cli-made' already exists");
  });

  test('a bad file is a usage error (exit 2) naming the problem, and nothing is written', async () => {
    const cases: [unknown, string][] = [
      ['{ not json', 'is not JSON'],
      [[1, 2], 'must hold a JSON object'],
      [
        { scheduleId: 'bad-1', spec: { crn: '* * * * *' }, action: { workflow: 'CliOrderWorkflow' } },
        "Invalid schedule 'bad-1': unknown field spec.crn",
      ],
      [
        { scheduleId: 'bad-2', spec: { cron: '61 * * * *' }, action: { workflow: 'CliOrderWorkflow' } },
        "Invalid schedule 'bad-2': ",
      ],
      [
        { scheduleId: 'bad-3', spec: { every: '1h', startAt: 'tomorrow' }, action: { workflow: 'CliOrderWorkflow' } },
        'spec.startAt is not a valid Date',
      ],
      [{ scheduleId: 'bad-4', spec: { every: '1h' }, action: { workflow: 'Nope' } }, "Unknown workflow type 'Nope'"],
      [{ scheduleId: 'bad-5', spec: { every: '1h' }, action: { workflow: 'CliOrderWorkflow' }, paused: 3 }, 'paused'],
    ];
    for (const [i, [content, message]] of cases.entries()) {
      const run = await redurable(['schedule', 'create', '--file', file(`bad-${i}.json`, content), ...flags]);
      expect([run.code, run.stdout]).toEqual([2, '']);
      expect(run.stderr).toContain(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    const missing = await redurable(['schedule', 'create', '--file', join(dir, 'nope.json'), ...flags]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.json');
    expect((await t.client.schedule.list()).map((s) => s.scheduleId)).not.toEqual(
      expect.arrayContaining(['bad-1', 'bad-2', 'bad-3', 'bad-4', 'bad-5']),
    );

    await t.client.schedule.create({
      scheduleId: 'cli-kept',
      spec: { every: '1h' },
      action: { workflow: CliOrderWorkflow, args: ['kim', 1] },
    });
    const otherId = await redurable([
      'schedule',
      'update',
      'cli-kept',
      '--file',
      file('other-id.json', { scheduleId: 'cli-other', spec: { every: '2h' } }),
      ...flags,
    ]);
    expect(otherId.code).toBe(2);
    expect(otherId.stderr).toContain("'cli-other'");
    const badUpdate = await redurable([
      'schedule',
      'update',
      'cli-kept',
      '--file',
      file('bad-update.json', { spec: { every: 'often' } }),
      ...flags,
    ]);
    expect(badUpdate.code).toBe(2);
    expect(badUpdate.stderr).toContain("Invalid schedule 'cli-kept': spec.every");
    expect((await t.client.schedule.describe('cli-kept')).spec).toEqual({ everyMs: 3_600_000 });
    const notFound = await redurable([
      'schedule',
      'update',
      'cli-none',
      '--file',
      file('none.json', { spec: { every: '2h' } }),
      ...flags,
    ]);
    expect(notFound.code).toBe(3);
  });
});

describe('global options', () => {
  test('REDURABLE_PREFIX sets the prefix; --prefix wins over it', async () => {
    await t.client.execute(CliOrderWorkflow, { workflowId: 'in-t', args: ['a', 1] });
    const other = await createTestApp([CliOrderWorkflow]);
    try {
      await other.client.execute(CliOrderWorkflow, { workflowId: 'in-other', args: ['b', 1] });
      const redis = ['--redis', testRedisUrl()];
      const byEnv = await redurable(['workflow', 'list', '--json', ...redis], { REDURABLE_PREFIX: other.prefix });
      expect(byEnv.code).toBe(0);
      expect(JSON.parse(byEnv.stdout).workflows.map((w: { workflowId: string }) => w.workflowId)).toEqual(['in-other']);
      const byFlag = await redurable(['workflow', 'list', '--json', '--type', 'CliOrderWorkflow', ...flags], {
        REDURABLE_PREFIX: other.prefix,
      });
      expect(JSON.parse(byFlag.stdout).workflows.map((w: { workflowId: string }) => w.workflowId)).toContain('in-t');
    } finally {
      await other.close();
    }
  });

  test('--help lists the commands and the global options', async () => {
    const help = await redurable(['--help']);
    expect(help.code).toBe(0);
    for (const text of [
      'workflow',
      'schedule',
      'activity',
      '--redis <url>',
      '--cluster <nodes>',
      '--prefix <prefix>',
      'REDURABLE_PREFIX',
      '--timeout <duration>',
      '--codec <module>',
      '--json',
    ])
      expect(help.stdout).toContain(text);
    const sub = await redurable(['workflow', 'start', '--help']);
    expect(sub.stdout).toContain('--input <json>');
    expect(sub.stdout).toMatch(/Global Options:[\s\S]*--prefix <prefix>/);
  });

  test('a prefix holding no Redurable data says so on stderr instead of printing an empty list', async () => {
    const nowhere = ['--redis', testRedisUrl(), '--prefix', 'no-such-app'];
    for (const command of [
      ['workflow', 'list'],
      ['workflow', 'count'],
      ['schedule', 'list'],
    ]) {
      const run = await redurable([...command, ...nowhere]);
      expect(run.code).toBe(3);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        `redurable: prefix 'no-such-app' holds no Redurable data on ${new URL(testRedisUrl()).host}: pass the app's prefix (DurableModule's \`prefix\`) with --prefix or REDURABLE_PREFIX\n`,
      );
    }
    // A prefix an app uses, with nothing in it yet, is simply empty.
    const empty = await createTestApp([CliOrderWorkflow]);
    try {
      const own = ['--redis', testRedisUrl(), '--prefix', empty.prefix];
      expect(await redurable(['workflow', 'list', ...own])).toMatchObject({ code: 0, stdout: '(no workflows)\n' });
      expect(await redurable(['workflow', 'count', ...own])).toMatchObject({ code: 0, stdout: '0\n' });
      expect(await redurable(['schedule', 'list', ...own])).toMatchObject({ code: 0, stdout: '(no schedules)\n' });
    } finally {
      await empty.close();
    }
  });
});
