import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { createSampleApp, type SampleApp } from '../../sample-app/sample-app.factory.js';
import { testRedisUrl } from '../support/test-app.js';
import { until } from '../support/until.js';
import { apiClient, seedRefundedAndWaiting } from './sample-http.js';

/** The workflow explorer over HTTP, on the sample: pages, JSON API, actions, auth and read-only mode. */
const apps: SampleApp[] = [];
let sample: SampleApp;
let api: ReturnType<typeof apiClient>;
let refunded: string;
let waiting: string;

const start = (
  options: Parameters<typeof createSampleApp>[0]['console'] = undefined,
  prefix = `explorer-${randomUUID().slice(0, 8)}`,
) =>
  createSampleApp({
    redisUrl: testRedisUrl(),
    port: 0,
    prefix,
    logger: false,
    approvalLimit: 500,
    durable: { leaseTtl: '2s', sweepInterval: '500ms' },
    console: options,
  }).then((app) => (apps.push(app), app));

const page = async (url: string) => {
  const res = await fetch(url);
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    text: await res.text(),
    headers: res.headers,
  };
};

beforeAll(async () => {
  sample = await start();
  api = apiClient(sample.url);
  ({ refunded, waiting } = await seedRefundedAndWaiting(api));
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

describe('workflow explorer pages', () => {
  test('the list shows counts per status, filters by status and id prefix, and links each row to its page', async () => {
    const all = await page(`${sample.url}/workflows`);
    expect(all.status).toBe(200);
    expect(all.type).toContain('text/html');
    expect(all.text).toContain(`href="/workflows/${refunded}"`);
    expect(all.text).toContain(`href="/workflows/${waiting}"`);
    expect(all.text).toMatch(/status-running">running<\/span> <b>1<\/b>/);
    expect(all.text).toMatch(/status-failed">failed<\/span> <b>1<\/b>/);
    const failed = await page(`${sample.url}/workflows?status=failed`);
    expect(failed.text).toContain(refunded);
    expect(failed.text).not.toContain(`href="/workflows/${waiting}"`);
    const byPrefix = await page(`${sample.url}/workflows?idPrefix=${encodeURIComponent(waiting.slice(0, 20))}`);
    expect(byPrefix.text).toContain(waiting);
    expect(byPrefix.text).not.toContain(`href="/workflows/${refunded}"`);
    const css = await page(`${sample.url}/workflows/assets/explorer.css`);
    expect(css.type).toContain('text/css');
    expect((await page(`${sample.url}/workflows?limit=none`)).status).toBe(400);
  });

  test('the query box filters by search attributes; the workflow page shows them; a bad query is a 400 that says where', async () => {
    const large = await page(
      `${sample.url}/workflows?query=${encodeURIComponent("amount >= 500 AND ExecutionStatus = 'running'")}`,
    );
    expect(large.status).toBe(200);
    expect(large.text).toContain(`href="/workflows/${waiting}"`);
    expect(large.text).not.toContain(`href="/workflows/${refunded}"`);
    expect(large.text).toContain('amount=900');
    expect(large.text).toMatch(/status-running">running<\/span> <b>1<\/b>/); // the counts follow the query
    const wf = await page(`${sample.url}/workflows/${refunded}`);
    expect(wf.text).toMatch(
      /<dt>Search attributes<\/dt><dd><code class="search-attributes">fromAccount=&quot;[^&]+&quot; toAccount=&quot;[^&]+&quot; amount=40<\/code>/,
    );
    const typo = await page(`${sample.url}/workflows?query=${encodeURIComponent('amont >= 500')}`);
    expect(typo.status).toBe(400);
    expect(typo.text).toContain("position 0: unknown field 'amont'");
    const listed = await fetch(`${sample.url}/api/workflows?query=${encodeURIComponent('amount < 100')}`);
    expect(
      (
        (await listed.json()) as { workflows: { workflowId: string; searchAttributes: { amount: number } }[] }
      ).workflows.map((w) => [w.workflowId, w.searchAttributes.amount]),
    ).toEqual([[refunded, 40]]);
  });

  test('a workflow page shows the timeline with the failed deposit and the refund marked as a compensation', async () => {
    const wf = await page(`${sample.url}/workflows/${refunded}`);
    expect(wf.status).toBe(200);
    expect(wf.text).toMatch(/data-name="withdraw" data-status="completed"/);
    expect(wf.text).toMatch(/data-name="deposit" data-status="failed"/);
    expect(wf.text).toMatch(/span-completed compensation" data-kind="activity" data-name="refund"/);
    expect(wf.text).toContain('is frozen');
    expect(wf.text).toContain('TransferRefunded');
    expect(wf.text).toContain('href="/queues/queue/%7Btransfers-activities%7D"');
    expect(wf.text).not.toContain('class="actions"'); // closed: nothing to act on
    const download = await page(`${sample.url}/workflows/${refunded}/history.json`);
    expect(download.headers.get('content-disposition')).toContain('attachment');
    expect(JSON.parse(download.text).map((e: { type: string }) => e.type)[0]).toBe('WorkflowExecutionStarted');
    const missing = await page(`${sample.url}/workflows/transfer-nobody`);
    expect(missing.status).toBe(404);
    // The error is JSON, and says so (the page's text/html type does not stay on it).
    expect(missing.type).toContain('application/json');
    expect(JSON.parse(missing.text)).toMatchObject({ statusCode: 404, error: 'WorkflowNotFoundError' });
  });

  test('the API lists with counts, gives the timeline, and acts: signal, cancel, terminate, with clear refusals', async () => {
    const list = await api.get(`/api/workflows?status=running`);
    expect(list.body.workflows.map((w: { workflowId: string }) => w.workflowId)).toEqual([waiting]);
    expect(list.body.counts).toEqual(
      expect.arrayContaining([
        { status: 'running', count: 1 },
        { status: 'failed', count: 1 },
      ]),
    );
    const timeline = await api.get(`/api/workflows/${refunded}/timeline`);
    expect(
      timeline.body.spans.map(
        (s: { name: string; status: string; compensation?: boolean }) =>
          `${s.name}:${s.status}${s.compensation ? ':compensation' : ''}`,
      ),
    ).toEqual(['withdraw:completed', 'sleep 1000ms:fired', 'deposit:failed', 'refund:completed:compensation']);

    const running = await page(`${sample.url}/workflows/${waiting}`);
    expect(running.text).toContain('class="actions"');
    // The approval's timeout timer is pending, linked to its job in Bull Board.
    const timerJob = /href="(\/queues\/queue\/%7Btransfers-workflows%7D\/t%7C[^"]+)"/.exec(running.text)?.[1];
    expect(timerJob).toBeDefined();
    expect((await page(`${sample.url}${timerJob}`)).status).toBe(200);
    expect((await api.post(`/api/workflows/${waiting}/signal`, {})).status).toBe(400);
    // A signal the workflow has no handler for is the caller's mistake: 400 with the error's name and message.
    const unknownSignal = await api.post(`/api/workflows/${waiting}/signal`, { name: 'aprove' });
    expect(unknownSignal.status).toBe(400);
    expect(unknownSignal.body).toMatchObject({ statusCode: 400, error: 'UnknownSignalError' });
    expect(unknownSignal.body.message).toContain("'aprove'");
    expect((await api.post(`/api/workflows/${waiting}/signal`, { name: 'approve', args: ['ops'] })).body).toEqual({
      workflowId: waiting,
      signal: 'approve',
      sent: true,
    });
    await until(
      'the approved transfer to complete',
      async () => (await api.get(`/api/workflows/${waiting}`)).body.status === 'completed',
    );
    const closed = await api.post(`/api/workflows/${waiting}/terminate`, { reason: 'too late' });
    expect(closed.status).toBe(409);
    expect(closed.body.error).toBe('WorkflowNotRunningError');
    expect(closed.body.message).toBe(`Cannot terminate workflow '${waiting}': it is completed, not running`);
  });

  test('reset from the explorer: the page offers it for a closed run; the API starts the new run or refuses a command event with 400', async () => {
    const before = await page(`${sample.url}/workflows/${refunded}`);
    expect(before.text).toContain('<form data-action="reset">');
    const history = (await api.get(`/api/workflows/${refunded}/history`)).body.events as { id: number; type: string }[];
    const command = history.find((e) => e.type === 'ActivityTaskScheduled')!;
    const refused = await api.post(`/api/workflows/${refunded}/reset`, { toEventId: command.id, reason: 'try' });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain(
      `event ${command.id} (ActivityTaskScheduled(withdraw) seq 1) is a command the code recorded`,
    );
    expect((await api.post(`/api/workflows/${refunded}/reset`, { to: 'lastWorkflowTask' })).status).toBe(400); // no reason
    const reset = await api.post(`/api/workflows/${refunded}/reset`, {
      to: 'lastWorkflowTask',
      reason: 'ops retried the refund check',
    });
    expect(reset.status).toBe(200);
    const oldRun = history[0] as unknown as { runId: string };
    expect(reset.body.runId).not.toBe(oldRun.runId);
    await until(
      'the new run to end',
      async () => (await api.get(`/api/workflows/${refunded}`)).body.status !== 'running',
    );
    const after = await page(`${sample.url}/workflows/${refunded}`);
    expect(after.text).toContain(`run ${oldRun.runId} at event ${history.length - 1}: ops retried the refund check`);
  });
});

/** A Nest guard class as `auth`: the console creates it with the app's injector. */
@Injectable()
class OpsOnlyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-role'] === 'ops';
  }
}

describe('access', () => {
  test('a guard class as auth: 403 without the role, 200 with it, for pages, API and Bull Board', async () => {
    const guarded = await start({ auth: OpsOnlyGuard });
    for (const path of ['/workflows', '/api/workflows', '/queues']) {
      expect([path, (await fetch(`${guarded.url}${path}`)).status]).toEqual([path, 403]);
      expect([path, (await fetch(`${guarded.url}${path}`, { headers: { 'x-role': 'ops' } })).status]).toEqual([
        path,
        200,
      ]);
    }
  });

  test('auth rejects requests to the explorer, its API and Bull Board; readOnly refuses actions and hides them', async () => {
    const guarded = await start({
      auth: (req: { headers: Record<string, string> }) => req.headers['x-console-key'] === 'let-me-in',
      readOnly: true,
    });
    for (const path of ['/workflows', '/api/workflows', '/queues']) {
      const refused = await fetch(`${guarded.url}${path}`);
      expect([path, refused.status]).toEqual([path, 403]);
      const allowed = await fetch(`${guarded.url}${path}`, { headers: { 'x-console-key': 'let-me-in' } });
      expect([path, allowed.status]).toEqual([path, 200]);
    }
    const own = apiClient(guarded.url);
    const id = (
      await own.post('/transfers', { from: await own.openAccount(5000), to: await own.openAccount(0), amount: 900 })
    ).body.workflowId;
    const headers = { 'x-console-key': 'let-me-in', 'content-type': 'application/json' };
    const cancel = await fetch(`${guarded.url}/api/workflows/${id}/cancel`, { method: 'POST', headers, body: '{}' });
    expect(cancel.status).toBe(403);
    expect(((await cancel.json()) as { message: string }).message).toContain('read-only');
    const html = await (await fetch(`${guarded.url}/workflows/${id}`, { headers })).text();
    expect(html).not.toContain('class="actions"');
  });
});
