import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { DurableModule, Query, Update, Workflow, WorkflowRun, type HistoryEvent } from 'redurable';
import { RedurableConsoleModule, type RedurableConsoleOptions } from 'redurable-console';
import { condition } from 'redurable/workflow';
import { createTestApp, testConnection, type TestApp } from '../support/test-app.js';

/** Registered by the worker app only: the console's app does not have it. */
@Workflow({ taskQueue: 'console-messages' })
class ThermostatWorkflow {
  private target = 20;

  @WorkflowRun()
  async run(): Promise<number> {
    await condition(() => this.target === 0);
    return this.target;
  }

  @Query() setting(unit?: string): string {
    return unit === 'F' ? `${this.target * 1.8 + 32}F` : `${this.target}C`;
  }

  @Update({
    validator(this: ThermostatWorkflow, target: number) {
      if (!(target >= 0 && target <= 30)) throw new Error(`target must be between 0 and 30 (got ${target})`);
    },
  })
  async setTarget(target: number): Promise<string> {
    this.target = target;
    return `set to ${target}C`;
  }
}

const KEY = { 'x-console-key': 'ops' };

/** A console without the workflow class (no worker either), on the worker's prefix. */
async function consoleApp(prefix: string, options: Partial<RedurableConsoleOptions> = {}) {
  @Module({
    imports: [
      DurableModule.forRoot({
        connection: testConnection(),
        prefix,
        logger: false,
        worker: false,
        connectTimeout: '1s',
      }),
      RedurableConsoleModule.forRoot({
        auth: (req: { headers: Record<string, string> }) => req.headers['x-console-key'] === 'ops',
        ...options,
      }),
    ],
  })
  class ConsoleOnlyModule {}
  const app = await NestFactory.create(ConsoleOnlyModule, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}

let worker: TestApp;
let consoles: INestApplication[] = [];
let url: string;

beforeAll(async () => {
  worker = await createTestApp([ThermostatWorkflow]);
  const c = await consoleApp(worker.prefix);
  consoles.push(c.app);
  url = c.url;
  await worker.client.start(ThermostatWorkflow, { workflowId: 'thermo-1' });
});

afterAll(async () => {
  await Promise.all(consoles.map((c) => c.close()));
  consoles = [];
  await worker?.close();
});

const post = async (base: string, path: string, body: unknown, headers: Record<string, string> = KEY) => {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('the explorer queries and updates a workflow whose class only a worker has', () => {
  test('the page offers query and update forms; the API answers through the worker', async () => {
    const html = await (await fetch(`${url}/workflows/thermo-1`, { headers: KEY })).text();
    expect(html).toContain('<form data-action="query">');
    expect(html).toContain('<form data-action="update">');

    expect(await post(url, '/api/workflows/thermo-1/query', { name: 'setting', args: ['F'] })).toEqual({
      status: 200,
      body: { workflowId: 'thermo-1', query: 'setting', result: '68F' },
    });
    const updated = await post(url, '/api/workflows/thermo-1/update', { name: 'setTarget', args: [25] });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ workflowId: 'thermo-1', update: 'setTarget', result: 'set to 25C' });
    expect((await post(url, '/api/workflows/thermo-1/query', { name: 'setting' })).body.result).toBe('25C');
    const history = await worker.client.getHandle('thermo-1').fetchHistory();
    expect(history.filter((e: HistoryEvent) => e.type === 'WorkflowUpdateAccepted')).toHaveLength(1);
  });

  test('refusals: a rejected update is a 409 with the validator message, an unknown query a 400, bad args a 400', async () => {
    const rejected = await post(url, '/api/workflows/thermo-1/update', { name: 'setTarget', args: [99] });
    expect(rejected.status).toBe(409);
    expect(rejected.body.message).toBe(
      "Update 'setTarget' of workflow 'thermo-1' was rejected by its validator: target must be between 0 and 30 (got 99). Nothing was recorded",
    );
    const unknown = await post(url, '/api/workflows/thermo-1/query', { name: 'humidity' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toBe(
      "Workflow 'ThermostatWorkflow' has no query 'humidity': known queries are setting",
    );
    expect((await post(url, '/api/workflows/thermo-1/query', { name: 'setting', args: 'F' })).status).toBe(400);
    expect((await post(url, '/api/workflows/nobody/query', { name: 'setting' })).status).toBe(404);
  });

  test('auth guards both; a read-only console queries but refuses updates and hides the update form', async () => {
    expect((await post(url, '/api/workflows/thermo-1/query', { name: 'setting' }, {})).status).toBe(403);
    expect((await post(url, '/api/workflows/thermo-1/update', { name: 'setTarget', args: [1] }, {})).status).toBe(403);
    const readOnly = await consoleApp(worker.prefix, { readOnly: true });
    consoles.push(readOnly.app);
    expect((await post(readOnly.url, '/api/workflows/thermo-1/query', { name: 'setting' })).status).toBe(200);
    const refused = await post(readOnly.url, '/api/workflows/thermo-1/update', { name: 'setTarget', args: [1] });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('read-only');
    const html = await (await fetch(`${readOnly.url}/workflows/thermo-1`, { headers: KEY })).text();
    expect(html).toContain('<form data-action="query">');
    expect(html).not.toContain('<form data-action="update">');
  });

  test('no worker serving the task queue: 503 naming the workflow, the query and the task queue', async () => {
    const lonely = await createTestApp([ThermostatWorkflow]);
    await lonely.client.start(ThermostatWorkflow, { workflowId: 'thermo-orphan' });
    await lonely.close(); // its worker stops; the workflow stays running in Redis
    const c = await consoleApp(lonely.prefix);
    consoles.push(c.app);
    const res = await post(c.url, '/api/workflows/thermo-orphan/query', { name: 'setting' });
    expect(res.status).toBe(503);
    expect(res.body.message).toContain(
      "No worker serving task queue 'console-messages' answered query 'setting' of workflow 'thermo-orphan'",
    );
  });
});
