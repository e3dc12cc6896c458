/**
 * What workflow code gets in place of Node's timers, randomness, network and files: setTimeout is
 * a durable timer (clearTimeout cancels it), crypto's UUIDs and random values are seeded by the
 * run (the same on replay), and calls that cannot be replayed fail the workflow task with a
 * DeterminismViolationError that describe() and the explorer show. Activities in the same
 * process keep the real ones.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import http from 'node:http';
import nodeCrypto from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedurableConsoleModule } from 'redurable-console';
import { Activities, Activity, DurableModule, Signal, Workflow, WorkflowRun, type HistoryEvent } from 'redurable';
import { condition, proxyActivities } from 'redurable/workflow';
import { replayHistory } from 'redurable/testing';
import { createTestApp, testConnection, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

@Injectable()
@Activities()
class RealWorldActivities {
  /** Real timers, files and network, in the process that runs the workflows. */
  @Activity() async touch(url: string, file: string): Promise<{ waitedMs: number; text: string; body: string }> {
    const began = performance.now();
    await new Promise((r) => setTimeout(r, 40));
    const waitedMs = performance.now() - began;
    const text = await fs.promises.readFile(file, 'utf8');
    const body = await (await fetch(url)).text();
    return { waitedMs, text, body };
  }

  @Activity() async echo(value: unknown): Promise<unknown> {
    return value;
  }
}

@Workflow({ taskQueue: 'sandbox' })
class TimeoutWorkflow {
  private readonly io = proxyActivities(RealWorldActivities, { startToCloseTimeout: '10s' });

  @WorkflowRun()
  async run(url: string, file: string) {
    const seen: string[] = [];
    await new Promise((resolve) => setTimeout(resolve, 300));
    setTimeout((a: string, b: string) => seen.push(a + b), 50, 'with ', 'arguments');
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { seen, io: await this.io.touch(url, file) };
  }
}

@Workflow({ taskQueue: 'sandbox' })
class ClearTimeoutWorkflow {
  @WorkflowRun()
  async run() {
    const fired: string[] = [];
    const cleared = setTimeout(() => fired.push('cleared'), 150);
    setTimeout(() => fired.push('kept'), 100);
    clearTimeout(cleared);
    await new Promise((resolve) => setTimeout(resolve, 400));
    return fired;
  }
}

@Workflow({ taskQueue: 'sandbox' })
class RandomWorkflow {
  private readonly io = proxyActivities(RealWorldActivities);
  private go = false;

  @Signal() proceed() {
    this.go = true;
  }

  @WorkflowRun()
  async run() {
    const values = {
      id: crypto.randomUUID(),
      nodeId: nodeCrypto.randomUUID(),
      bytes: Array.from(crypto.getRandomValues(new Uint8Array(8))),
    };
    await this.io.echo(values); // the first run's values, recorded as the activity's input
    await condition(() => this.go);
    return values;
  }
}

@Workflow({ taskQueue: 'sandbox' })
class ForbiddenWorkflow {
  @WorkflowRun()
  async run(call: 'setInterval' | 'fetch' | 'fs', arg: string) {
    if (call === 'setInterval') clearInterval(setInterval(() => undefined, 1000));
    else if (call === 'fetch') await fetch(arg);
    else await fs.promises.readFile(arg, 'utf8');
    return 'done';
  }
}

const PROVIDERS = [RealWorldActivities, TimeoutWorkflow, ClearTimeoutWorkflow, RandomWorkflow, ForbiddenWorkflow];
const FILE = join(tmpdir(), `redurable-sandbox-${process.pid}.txt`);
let server: http.Server;
let url: string;
let t: TestApp | undefined;

beforeAll(async () => {
  fs.writeFileSync(FILE, 'file contents');
  server = http.createServer((_req, res) => res.end('pong'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
});
afterAll(async () => {
  fs.rmSync(FILE, { force: true });
  await new Promise((resolve) => server.close(resolve));
});
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const timers = (history: HistoryEvent[]) =>
  history.flatMap((e): (number | string)[] =>
    e.type === 'TimerStarted' ? [e.durationMs] : e.type === 'TimerFired' ? ['fired'] : [],
  );

describe('setTimeout in workflow code is a durable timer', () => {
  test('the workflow waits on timers recorded in its history, and its activity uses the real setTimeout, fetch and fs', async () => {
    t = await createTestApp(PROVIDERS);
    const handle = await t.client.start(TimeoutWorkflow, { workflowId: 'set-timeout', args: [url, FILE] });
    const result = await within(handle.result(), 'the result');
    expect(result.seen).toEqual(['with arguments']);
    expect(result.io).toEqual({ waitedMs: expect.any(Number), text: 'file contents', body: 'pong' });
    expect(result.io.waitedMs).toBeGreaterThanOrEqual(35);
    const history = await handle.fetchHistory();
    expect(timers(history)).toEqual([300, 'fired', 50, 100, 'fired', 'fired']);
    expect(history.map((e) => e.type)).toContain('ActivityTaskCompleted');
  });

  test('clearTimeout cancels the durable timer: its callback never runs', async () => {
    t = await createTestApp(PROVIDERS);
    const handle = await t.client.start(ClearTimeoutWorkflow, { workflowId: 'clear-timeout' });
    const result = await within(handle.result(), 'the result');
    expect(result).toEqual(['kept']);
    const history = await handle.fetchHistory();
    expect(history.filter((e) => e.type === 'TimerStarted').map((e) => e.durationMs)).toEqual([150, 100, 400]);
    expect(history.at(-1)?.type).toBe('WorkflowExecutionCompleted');
  });
});

describe('crypto in workflow code is seeded by the run', () => {
  test('randomUUID() and getRandomValues() give the same values when a new worker replays the run', async () => {
    t = await createTestApp(PROVIDERS);
    const handle = await t.client.start(RandomWorkflow, { workflowId: 'random-replay' });
    await until('the echo activity', async () =>
      (await handle.fetchHistory()).some((e) => e.type === 'ActivityTaskCompleted'),
    );
    const scheduled = (await handle.fetchHistory()).find((e) => e.type === 'ActivityTaskScheduled');
    const recorded = JSON.parse((scheduled as { input: string[] }).input[0]) as unknown;
    const { prefix } = t;
    await t.close();

    // A new worker has no cached execution: the signal's task replays the history from the start.
    t = await createTestApp(PROVIDERS, { prefix });
    await t.client.getHandle('random-replay').signal('proceed');
    const result = await t.client.getHandle<{ id: string; nodeId: string }>('random-replay').result();
    expect(result).toEqual(recorded);
    expect(result.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(result.nodeId).not.toBe(result.id);
    expect((await t.client.getHandle('random-replay').describe()).taskFailure).toBeUndefined();

    const replay = await replayHistory(RandomWorkflow, await t.client.getHandle('random-replay').fetchHistory());
    expect(replay.closing?.status).toBe('completed');
    expect(replay.result).toEqual(recorded);
  });
});

describe('calls that cannot be replayed fail the workflow task', () => {
  test.each<['setInterval' | 'fetch' | 'fs', string, string]>([
    [
      'setInterval',
      "setInterval() cannot be used in workflow code (workflow 'forbidden-setInterval'",
      'call sleep() in a loop',
    ],
    ['fetch', "fetch() cannot be used in workflow code (workflow 'forbidden-fetch'", 'make the call in an activity'],
    [
      'fs',
      "fs.promises.readFile() cannot be used in workflow code (workflow 'forbidden-fs'",
      'make the call in an activity',
    ],
  ])('%s: a DeterminismViolationError that describe() shows, retried, nothing recorded', async (call, start, fix) => {
    t = await createTestApp(PROVIDERS);
    const workflowId = `forbidden-${call}`;
    const handle = await t.client.start(ForbiddenWorkflow, { workflowId, args: [call, call === 'fs' ? FILE : url] });
    const described = await until('a retried task failure', async () => {
      const d = await handle.describe();
      return (d.taskFailure?.attempt ?? 0) >= 2 && d;
    });
    expect(described.status).toBe('running');
    const message = described.taskFailure!.message;
    expect(
      message.startsWith(`DeterminismViolationError: ${start}, run ${described.runId}, type 'ForbiddenWorkflow')`),
    ).toBe(true);
    expect(message).toContain(fix);
    expect((await handle.fetchHistory()).map((e) => e.type)).toEqual(['WorkflowExecutionStarted']);
  });

  test("the explorer's page of the workflow shows the violation and what to do", async () => {
    t = await createTestApp(PROVIDERS);
    const handle = await t.client.start(ForbiddenWorkflow, { workflowId: 'forbidden-explored', args: ['fetch', url] });
    await until('the task failure', async () => (await handle.describe()).taskFailure);
    @Module({
      imports: [
        DurableModule.forRoot({ connection: testConnection(), prefix: t.prefix, worker: false, logger: false }),
        RedurableConsoleModule.forRoot({ auth: () => true }),
      ],
    })
    class ConsoleApp {}
    const app: INestApplication = await NestFactory.create(ConsoleApp, { logger: false });
    try {
      await app.listen(0, '127.0.0.1');
      const port = (app.getHttpServer().address() as { port: number }).port;
      const page = await (await fetch(`http://127.0.0.1:${port}/workflows/forbidden-explored`)).text();
      expect(page).toContain('DeterminismViolationError: fetch() cannot be used in workflow code');
      expect(page).toContain('The workflow code made a call that cannot be replayed');
    } finally {
      await app.close();
    }
  });
});

/** `promise`, or an error naming `what` after 15 s (before this change, such a workflow waited forever). */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 15_000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
