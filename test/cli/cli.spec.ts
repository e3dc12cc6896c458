import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';
import { Activities, Activity, ApplicationFailure, Signal, Workflow, WorkflowRun } from 'redurable';
import { condition, proxyActivities } from 'redurable/workflow';
import { createTestApp, testRedisUrl, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

/** The `redurable` command as a user runs it: the package's compiled bin, in its own process. */
const BIN = fileURLToPath(new URL('../../libs/redurable/dist/cli/main.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function redurable(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const { REDIS_URL: _omit, ...rest } = process.env;
    execFile(process.execPath, [BIN, ...args], { env: { ...rest, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

@Injectable()
@Activities()
class GreetingActivities {
  @Activity() async greet(name: string): Promise<string> {
    return `hello ${name}`;
  }
}

@Workflow({ taskQueue: 'cli' })
class GreeterWorkflow {
  private readonly acts = proxyActivities(GreetingActivities);
  private names: string[] = [];

  @WorkflowRun()
  async run(expected: number) {
    if (expected < 0) throw ApplicationFailure.nonRetryable('cannot greet fewer than nobody', 'BadCount');
    await condition(() => this.names.length >= expected);
    return Promise.all(this.names.map((n) => this.acts.greet(n)));
  }

  @Signal() arrive(name: string) {
    this.names.push(name);
  }
}

let t: TestApp;
let flags: string[];

beforeAll(async () => {
  t = await createTestApp([GreetingActivities, GreeterWorkflow]);
  flags = ['--redis', testRedisUrl(), '--prefix', t.prefix];
  await t.client.execute(GreeterWorkflow, { workflowId: 'cli-done', args: [0] });
  await t.client
    .start(GreeterWorkflow, { workflowId: 'cli-failed', args: [-1] })
    .then((h) => h.result())
    .catch(() => undefined);
  await t.client.start(GreeterWorkflow, { workflowId: 'cli-waiting', args: [1] });
});

afterAll(async () => {
  await t?.close();
});

describe('redurable workflow', () => {
  test('list prints a table of the workflows, and --json a page a script can read', async () => {
    const table = await redurable(['workflow', 'list', ...flags]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^WORKFLOW ID\s+TYPE\s+STATUS\s+STARTED\s+CLOSED$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ['cli-waiting', 'GreeterWorkflow', 'running'],
      ['cli-failed', 'GreeterWorkflow', 'failed'],
      ['cli-done', 'GreeterWorkflow', 'completed'],
    ]);
    const running = await redurable(['workflow', 'list', '--status', 'running', '--json', ...flags]);
    expect(JSON.parse(running.stdout).workflows.map((w: { workflowId: string }) => w.workflowId)).toEqual([
      'cli-waiting',
    ]);
    const paged = await redurable(['workflow', 'list', '--limit', '2', ...flags]);
    const cursor = /more: --cursor (\S+)/.exec(paged.stdout)?.[1];
    expect(cursor).toBeDefined();
    const rest = await redurable(['workflow', 'list', '--limit', '2', '--cursor', cursor!, '--json', ...flags]);
    expect(JSON.parse(rest.stdout)).toEqual({ workflows: [expect.objectContaining({ workflowId: 'cli-done' })] });
  });

  test('count, describe and show', async () => {
    expect((await redurable(['workflow', 'count', '--status', 'completed', ...flags])).stdout.trim()).toBe('1');
    for (const command of ['count', 'list']) {
      const typo = await redurable(['workflow', command, '--status', 'complete', ...flags]);
      expect(typo.code).toBe(2); // a usage error, not an empty answer
      expect(typo.stderr).toContain("argument 'complete' is invalid");
      expect(typo.stderr).toContain('completed');
    }
    const described = await redurable(['workflow', 'describe', 'cli-failed', ...flags]);
    expect(described.stdout).toMatch(/Status\s+failed/);
    expect(described.stdout).toContain('BadCount: cannot greet fewer than nobody');
    const shown = await redurable(['workflow', 'show', 'cli-done', ...flags]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('cli-done (GreeterWorkflow, run ');
    const events = await redurable(['workflow', 'show', 'cli-done', '--events', ...flags]);
    expect(
      events.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[2]),
    ).toEqual(['WorkflowExecutionStarted', 'WorkflowExecutionCompleted']);
  });

  test('signal, then show --follow prints events as they come and result prints the result', async () => {
    const follower = spawn(process.execPath, [BIN, 'workflow', 'show', 'cli-waiting', '--follow', ...flags], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let followed = '';
    follower.stdout.on('data', (d: Buffer) => (followed += d));
    const ended = new Promise<number | null>((r) => follower.once('close', (code) => r(code)));
    await until('the follower to print the first event', () => followed.includes('WorkflowExecutionStarted'));

    const signal = await redurable(['workflow', 'signal', 'cli-waiting', 'arrive', '"ada"', ...flags]);
    expect(signal).toMatchObject({ code: 0, stdout: "Signal 'arrive' recorded in workflow 'cli-waiting'\n" });
    const result = await redurable(['workflow', 'result', 'cli-waiting', ...flags]);
    expect(result).toMatchObject({ code: 0, stdout: '["hello ada"]\n' });

    expect(await ended).toBe(0);
    for (const type of [
      'SignalReceived arrive',
      'ActivityTaskScheduled greet #1',
      'ActivityTaskCompleted #1',
      'WorkflowExecutionCompleted',
    ])
      expect(followed).toContain(type);
    const timeline = await redurable(['workflow', 'show', 'cli-waiting', ...flags]);
    expect(timeline.stdout).toMatch(/signal arrive\s+received\s+\("ada"\)/);
    expect(timeline.stdout).toMatch(/activity greet #1\s+completed\s+\d+ ms\s+-> "hello ada"/);
  });

  test('cancel and terminate; exit codes a script can rely on, with one line on stderr', async () => {
    await t.client.start(GreeterWorkflow, { workflowId: 'cli-cancel', args: [1] });
    await t.client.start(GreeterWorkflow, { workflowId: 'cli-terminate', args: [1] });
    expect((await redurable(['workflow', 'cancel', 'cli-cancel', '--reason', 'not needed', ...flags])).code).toBe(0);
    expect((await redurable(['workflow', 'terminate', 'cli-terminate', ...flags])).code).toBe(0);
    expect((await t.client.getHandle('cli-terminate').describe()).status).toBe('terminated');
    await until(
      'the cancellation',
      async () => (await t.client.getHandle('cli-cancel').describe()).status === 'canceled',
    );

    const notRunning = await redurable(['workflow', 'terminate', 'cli-terminate', ...flags]);
    expect(notRunning).toEqual({
      code: 4,
      stdout: '',
      stderr: "redurable: Cannot terminate workflow 'cli-terminate': it is terminated, not running\n",
    });
    const notFound = await redurable(['workflow', 'describe', 'cli-nobody', ...flags]);
    expect(notFound.code).toBe(3);
    expect(notFound.stderr.trim().split('\n')).toEqual([
      expect.stringContaining("redurable: Workflow 'cli-nobody' was not found"),
    ]);
    const failed = await redurable(['workflow', 'result', 'cli-failed', ...flags]);
    expect(failed.code).toBe(6);
    expect(failed.stderr).toContain('cannot greet fewer than nobody');
  });

  test('reset: a new run from the first workflow task, the signals reapplied; describe shows where it came from and its run timeout', async () => {
    const handle = await t.client.start(GreeterWorkflow, {
      workflowId: 'cli-reset',
      args: [2],
      workflowRunTimeout: '1h',
    });
    await handle.signal('arrive', 'ada');
    const res = await redurable([
      'workflow',
      'reset',
      'cli-reset',
      '--to',
      'first',
      '--reason',
      'rerun from the CLI',
      '--json',
      ...flags,
    ]);
    expect(res.code).toBe(0);
    const { runId } = JSON.parse(res.stdout) as { runId: string };
    expect(runId).not.toBe(handle.runId);
    const described = await redurable(['workflow', 'describe', 'cli-reset', ...flags]);
    expect(described.stdout).toContain(`Reset from run ${handle.runId} at event 1: rerun from the CLI`);
    expect(described.stdout).toMatch(/Run timeout at {7}\d{4}-/);
    await t.client.getHandle('cli-reset').signal('arrive', 'bob');
    expect(await t.client.getHandle('cli-reset').result()).toEqual(['hello ada', 'hello bob']);
    const scheduled = (await t.client.getHandle('cli-reset').fetchHistory()).find(
      (e) => e.type === 'ActivityTaskScheduled',
    )!;
    const badPoint = await redurable([
      'workflow',
      'reset',
      'cli-reset',
      '--to-event',
      String(scheduled.id),
      '--reason',
      'x',
      ...flags,
    ]);
    expect(badPoint.code).toBe(1);
    expect(badPoint.stderr).toContain('is a command the code recorded, not a point a workflow task begins at');
    expect(
      (await redurable(['workflow', 'reset', 'cli-reset', '--to', 'middle', '--reason', 'x', ...flags])).code,
    ).toBe(2);
  });

  test('bad command lines and an unreachable Redis', async () => {
    const unreachable = await redurable(['workflow', 'list', '--redis', 'redis://127.0.0.1:1', '--timeout', '500ms']);
    expect(unreachable.code).toBe(5);
    expect(unreachable.stderr).toMatch(
      /^redurable: Cannot reach Redis: Redis at 127\.0\.0\.1:1 is unreachable \(waited 500 ms\)/,
    );
    expect((await redurable(['workflow', 'list'])).stderr).toBe(
      'redurable: no Redis to connect to: pass --redis redis://host:port (or --cluster host:port,...) or set REDIS_URL\n',
    );
    const badNodes = await redurable(['workflow', 'list', '--cluster', 'localhost']);
    expect([badNodes.code, badNodes.stderr]).toEqual([
      2,
      "redurable: --cluster: 'localhost' is not host:port (give some nodes of the cluster, comma-separated)\n",
    ]);
    expect((await redurable(['workflow', 'list', '--prefix', t.prefix], { REDIS_URL: testRedisUrl() })).code).toBe(0);
    expect((await redurable(['workflow', 'signal', 'cli-done', 'arrive', 'ada', ...flags])).code).toBe(2);
    expect((await redurable(['workflow', 'frobnicate', ...flags])).code).toBe(2);
    expect((await redurable(['workflow', 'list', '--limit', 'lots', ...flags])).code).toBe(2);
    const version = await redurable(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

@Workflow({
  name: 'CliInvoice',
  taskQueue: 'cli-search',
  searchAttributes: { customerId: 'keyword', amount: 'number', dueAt: 'datetime' },
})
class InvoiceWorkflow {
  @WorkflowRun()
  async run() {
    await condition(() => false);
  }
}

describe('redurable workflow --query', () => {
  test('list and count by search attributes (declarations read from Redis), describe shows them and the memo, a bad query exits 2', async () => {
    const app = await createTestApp([InvoiceWorkflow]);
    try {
      const own = ['--redis', testRedisUrl(), '--prefix', app.prefix];
      await app.client.start(InvoiceWorkflow, {
        workflowId: 'inv-1',
        searchAttributes: { customerId: 'c-1', amount: 120, dueAt: new Date('2026-12-01T00:00:00Z') },
        memo: { note: 'net 30' },
      });
      await app.client.start(InvoiceWorkflow, {
        workflowId: 'inv-2',
        searchAttributes: { customerId: 'c-1', amount: 80 },
      });
      await app.client.start(InvoiceWorkflow, {
        workflowId: 'inv-3',
        searchAttributes: { customerId: 'c-2', amount: 500 },
      });
      const listed = await redurable(['workflow', 'list', '--query', "customerId = 'c-1' AND amount >= 100", ...own]);
      expect(listed.code).toBe(0);
      const lines = listed.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^WORKFLOW ID\s+TYPE\s+STATUS\s+STARTED\s+CLOSED\s+SEARCH ATTRIBUTES$/);
      expect(lines.slice(1)).toEqual([
        expect.stringMatching(
          /^inv-1\s+CliInvoice\s+running\s.*customerId="c-1" amount=120 dueAt=2026-12-01T00:00:00.000Z$/,
        ),
      ]);
      const json = JSON.parse(
        (await redurable(['workflow', 'list', '--query', "customerId = 'c-1'", '--json', ...own])).stdout,
      );
      expect(
        json.workflows.map((w: { workflowId: string; searchAttributes: { amount: number } }) => [
          w.workflowId,
          w.searchAttributes.amount,
        ]),
      ).toEqual([
        ['inv-2', 80],
        ['inv-1', 120],
      ]);
      expect(
        (await redurable(['workflow', 'count', '--query', 'amount BETWEEN 80 AND 500', ...own])).stdout.trim(),
      ).toBe('3');
      const described = await redurable(['workflow', 'describe', 'inv-1', ...own]);
      expect(described.stdout).toMatch(/Search\s+customerId="c-1" amount=120 dueAt=2026-12-01T00:00:00.000Z/);
      expect(described.stdout).toMatch(/Memo\s+\{"note":"net 30"\}/);
      const bad = await redurable(['workflow', 'list', '--query', "custId = 'c-1'", ...own]);
      expect([bad.code, bad.stdout]).toEqual([2, '']);
      expect(bad.stderr).toMatch(/Invalid list query at position 0: unknown field 'custId'/);
    } finally {
      await app.close();
    }
  });
});
