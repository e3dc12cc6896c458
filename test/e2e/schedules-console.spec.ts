import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { DurableModule, WorkflowClient, Workflow, WorkflowRun } from 'redurable';
import { RedurableConsoleModule } from 'redurable-console';
import { testConnection } from '../support/test-app.js';

@Workflow({ taskQueue: 'sched-console' })
class ConsoleReportWorkflow {
  @WorkflowRun() async run(kind: string) {
    return kind;
  }
}

let app: INestApplication;
let url: string;
let client: WorkflowClient;

beforeAll(async () => {
  @Module({
    imports: [
      DurableModule.forRoot({
        connection: testConnection(),
        prefix: `t-${randomUUID().slice(0, 8)}`,
        logger: false,
        leaseTtl: '2s',
        sweepInterval: '500ms',
      }),
      RedurableConsoleModule.forRoot({ auth: () => true }),
    ],
    providers: [ConsoleReportWorkflow],
  })
  class ConsoleTestModule {}
  app = await NestFactory.create(ConsoleTestModule, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  client = app.get(WorkflowClient);
  await client.schedule.create({
    scheduleId: 'weekly',
    spec: { cron: '0 0 8 * * 1', timezone: 'Europe/Paris' },
    action: { workflow: ConsoleReportWorkflow, args: ['weekly'] },
  });
  await client.schedule.create({
    scheduleId: 'hourly',
    spec: { every: '1h' },
    action: { workflow: ConsoleReportWorkflow, args: ['hourly'] },
    paused: 'not yet',
  });
});

afterAll(async () => {
  await app?.close();
});

const page = async (path: string) => {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, text: await res.text() };
};

const post = async (path: string, body: unknown = {}) => {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('schedules JSON API', () => {
  test('lists and describes schedules, pauses and unpauses with a note, triggers; an unknown id is 404', async () => {
    const list = (await (await fetch(`${url}/api/schedules`)).json()) as { scheduleId: string }[];
    expect(list.map((s) => s.scheduleId)).toEqual(['hourly', 'weekly']);
    expect(await post('/api/schedules/hourly/unpause', { note: 'go' })).toEqual({
      status: 200,
      body: { scheduleId: 'hourly', paused: false },
    });
    const described = (await (await fetch(`${url}/api/schedules/hourly`)).json()) as { paused: boolean; note: string };
    expect([described.paused, described.note]).toEqual([false, 'go']);
    expect((await post('/api/schedules/hourly/pause', { note: 'stop' })).status).toBe(200);
    expect(await client.schedule.describe('hourly')).toMatchObject({ paused: true, note: 'stop' });
    const triggered = await post('/api/schedules/hourly/trigger');
    expect(triggered.body).toMatchObject({ cause: 'trigger', outcome: 'started' });
    expect(await client.getHandle(String(triggered.body.workflowId)).result()).toBe('hourly');
    const missing = await post('/api/schedules/nope/pause');
    expect([missing.status, missing.body.message]).toEqual([
      404,
      expect.stringContaining("Schedule 'nope' was not found"),
    ]);
  });
});

describe('explorer schedule pages', () => {
  test('the list shows each schedule with its spec, state and a link to its page; the nav links to it', async () => {
    const list = await page('/schedules');
    expect(list.status).toBe(200);
    expect(list.text).toContain('href="/schedules/weekly"');
    expect(list.text).toContain('cron 0 0 8 * * 1 (Europe/Paris)');
    expect(list.text).toMatch(
      /data-schedule="hourly"[\s\S]*status-paused">paused<\/span> <small>(not yet|stop)<\/small>/,
    );
    expect((await page('/workflows')).text).toContain('<a href="/schedules">Schedules</a>');
  });

  test('a schedule page shows next fire times, recent actions with links to the workflows, and running ones; an unknown id is 404', async () => {
    const action = await client.schedule.trigger('weekly');
    await client.getHandle(action.workflowId!).result();
    const one = await page('/schedules/weekly');
    expect(one.status).toBe(200);
    expect(one.text).toContain('<code>[&quot;weekly&quot;]</code>');
    expect((one.text.match(/<ul class="next-fires">([\s\S]*?)<\/ul>/)?.[1].match(/<li>/g) ?? []).length).toBe(5);
    expect(one.text).toMatch(
      new RegExp(
        `data-outcome="started">[\\s\\S]*trigger[\\s\\S]*href="/workflows/${encodeURIComponent(action.workflowId!)}"`,
      ),
    );
    const missing = await page('/schedules/nope');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain("Schedule 'nope' was not found");
  });
});
