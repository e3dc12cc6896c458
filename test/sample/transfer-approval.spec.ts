import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createSampleApp, type SampleApp, type SampleAppOptions } from '../../sample-app/sample-app.factory.js';
import { WorkflowClient, WorkflowUpdateRejectedError, type Duration } from 'redurable';
import { TransferWorkflow } from '../../sample-app/transfers/transfer.workflow.js';
import { testRedisUrl } from '../support/test-app.js';
import { apiClient } from './sample-http.js';

/** Amounts above it wait for an approval; the approval is refused after APPROVAL_TIMEOUT. */
const APPROVAL_LIMIT = 1000;
const APPROVAL_TIMEOUT_MS = 2000;

const stepsByName = (status: { steps: { name: string }[] }) =>
  Object.fromEntries(status.steps.map((s) => [s.name, s])) as Record<string, any>;
const stepList = (status: { steps: { name: string; status: string; compensation?: boolean }[] }) =>
  status.steps.map((s) => `${s.name}:${s.status}${s.compensation ? ':compensation' : ''}`);

function sampleOptions(
  prefix: string,
  approvalTimeout: Duration,
): SampleAppOptions & { durable: { leaseTtl: Duration; sweepInterval: Duration } } {
  return {
    redisUrl: testRedisUrl(),
    port: 0,
    prefix,
    logger: false as const,
    durable: { leaseTtl: '2s', sweepInterval: '500ms' },
    approvalLimit: APPROVAL_LIMIT,
    approvalTimeout,
  };
}

/** Polls `GET /transfers/:id/stage` until the transfer reaches `stage`, or fails with the last answer after `ms`. */
async function waitForStage(
  api: ReturnType<typeof apiClient>,
  transferId: string,
  stage: string,
  ms = 10_000,
): Promise<any> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await api.get(`/transfers/${transferId}/stage`);
    if (res.status === 200 && res.body.stage === stage) return res.body;
    if (Date.now() > deadline)
      throw new Error(
        `transfer ${transferId} did not reach stage ${stage} in ${ms}ms: last answer ${res.status} ${JSON.stringify(res.body)}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('transfers above the approval limit', () => {
  const prefix = `sample-approval-${randomUUID().slice(0, 8)}`;
  let sample: SampleApp;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    sample = await createSampleApp(sampleOptions(prefix, `${APPROVAL_TIMEOUT_MS}ms`));
    api = apiClient(sample.url);
  });

  afterAll(async () => {
    await sample?.close();
  });

  /** Opens two accounts and starts a transfer of `amount`, then waits until it awaits its approval. */
  async function awaitingApproval(amount: number, balance = 10_000) {
    const from = await api.openAccount(balance);
    const to = await api.openAccount(0);
    const started = await api.post('/transfers', { from, to, amount });
    expect(started.status).toBe(201);
    const { transferId } = started.body as { transferId: string };
    const stage = await waitForStage(api, transferId, 'awaiting-approval');
    return { from, to, transferId, stage, awaitingSince: Date.now() };
  }

  test('approval: it waits in awaiting-approval with the money withdrawn, then an approve completes it, moving the money once', async () => {
    const { from, to, transferId, stage } = await awaitingApproval(5000);
    expect(stage).toEqual({
      transferId,
      workflowId: `transfer-${transferId}`,
      stage: 'awaiting-approval',
      approval: { limit: APPROVAL_LIMIT, timeout: `${APPROVAL_TIMEOUT_MS}ms`, status: 'pending' },
    });
    expect(await api.balance(from)).toBe(5000);
    expect(await api.balance(to)).toBe(0);
    const running = await api.get(`/transfers/${transferId}`);
    expect(running.body).toMatchObject({
      status: 'running',
      stage: 'awaiting-approval',
      approval: { status: 'pending' },
    });

    const approved = await api.post(`/transfers/${transferId}/approve`, { by: 'alice' });
    expect(approved.status).toBe(202);
    expect(approved.body).toEqual({
      transferId,
      workflowId: `transfer-${transferId}`,
      request: 'approve',
      by: 'alice',
    });

    const status = await api.waitForTransfer(transferId, 10_000);
    expect(status.status).toBe('completed');
    expect(status.stage).toBe('completed');
    expect(status.approval).toMatchObject({ status: 'approved', by: 'alice' });
    expect(status.result).toMatchObject({
      status: 'completed',
      transferId,
      from,
      to,
      amount: 5000,
      approvedBy: 'alice',
    });
    // the approval's timeout timer was not needed: the workflow closed without it
    expect(stepList(status)).toEqual([
      `withdraw:completed`,
      `sleep ${APPROVAL_TIMEOUT_MS}ms:abandoned`,
      'sleep 1000ms:fired',
      'deposit:completed',
    ]);
    expect(stepsByName(status).withdraw.attempts).toBe(1);
    expect(stepsByName(status).deposit.attempts).toBe(1);
    expect(await api.balance(from)).toBe(5000);
    expect(await api.balance(to)).toBe(5000);

    // a second decision, on a closed transfer: 409 saying why
    const again = await api.post(`/transfers/${transferId}/reject`, { by: 'bob' });
    expect(again.status).toBe(409);
    expect(again.body.message).toBe(`transfer ${transferId} is no longer awaiting approval: it was approved by alice`);
  });

  test('the approval limit of a running transfer changes through an update: raised to its amount, the transfer goes on without an approval', async () => {
    const { from, to, transferId } = await awaitingApproval(5000);
    const lowRaise = await api.post(`/transfers/${transferId}/approval-limit`, { limit: 4000 });
    expect(lowRaise.status).toBe(200);
    expect(lowRaise.body).toEqual({
      transferId,
      workflowId: `transfer-${transferId}`,
      stage: 'awaiting-approval',
      approval: { limit: 4000, timeout: `${APPROVAL_TIMEOUT_MS}ms`, status: 'pending' },
    });

    // The workflow's validator refuses a limit that is not a positive whole amount: nothing is recorded.
    const handle = sample.app.get(WorkflowClient).getHandle(TransferWorkflow, `transfer-${transferId}`);
    const refused = await handle.executeUpdate('changeApprovalLimit', 2.5).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateRejectedError);
    expect((refused as Error).message).toContain('the approval limit must be a positive whole amount (got 2.5)');
    expect((await api.post(`/transfers/${transferId}/approval-limit`, { limit: 0 })).status).toBe(400);

    const raised = await api.post(`/transfers/${transferId}/approval-limit`, { limit: 5000 });
    expect(raised.status).toBe(200);
    expect(raised.body.approval).toEqual({
      limit: 5000,
      timeout: `${APPROVAL_TIMEOUT_MS}ms`,
      status: 'approved',
      by: 'approval limit raised to 5000',
    });
    const status = await api.waitForTransfer(transferId, 10_000);
    expect(status.status).toBe('completed');
    expect(status.result).toMatchObject({ amount: 5000, approvedBy: 'approval limit raised to 5000' });
    expect(await api.balance(from)).toBe(5000);
    expect(await api.balance(to)).toBe(5000);
    const updates = (await handle.fetchHistory())
      .filter((e) => e.type === 'WorkflowUpdateAccepted' || e.type === 'WorkflowUpdateCompleted')
      .map((e) => e.type);
    expect(updates).toEqual([
      'WorkflowUpdateAccepted',
      'WorkflowUpdateCompleted',
      'WorkflowUpdateAccepted',
      'WorkflowUpdateCompleted',
    ]);

    // Once the transfer is closed: 409.
    const late = await api.post(`/transfers/${transferId}/approval-limit`, { limit: 9000 });
    expect(late.status).toBe(409);
    expect(late.body.message).toContain('it is completed, not running');
  });

  test('rejection: the withdrawal is refunded and the failure names who rejected it', async () => {
    const { from, to, transferId } = await awaitingApproval(3000, 4000);
    expect(await api.balance(from)).toBe(1000);

    const rejected = await api.post(`/transfers/${transferId}/reject`, { by: 'bob' });
    expect(rejected.status).toBe(202);
    const status = await api.waitForTransfer(transferId, 10_000);
    expect(status.status).toBe('failed');
    expect(status.stage).toBe('rejected');
    expect(status.approval).toMatchObject({ status: 'rejected', by: 'bob' });
    expect(status.failure.type).toBe('TransferRejected');
    expect(status.failure.message).toBe(`Transfer ${transferId} was refunded to ${from}: rejected by bob`);
    expect(stepsByName(status).refund).toMatchObject({ status: 'completed', compensation: true });
    expect(stepsByName(status).deposit).toBeUndefined();
    expect(await api.balance(from)).toBe(4000);
    expect(await api.balance(to)).toBe(0);
  });

  test('timeout: nobody approves, so after the approval timeout the money is refunded, "not approved in time"', async () => {
    const { from, to, transferId, awaitingSince } = await awaitingApproval(2000, 2500);
    const status = await api.waitForTransfer(transferId, APPROVAL_TIMEOUT_MS + 8000);
    expect(Date.now() - awaitingSince).toBeGreaterThanOrEqual(APPROVAL_TIMEOUT_MS - 500);
    expect(status.status).toBe('failed');
    expect(status.stage).toBe('expired');
    expect(status.approval).toMatchObject({ status: 'expired' });
    expect(status.failure.type).toBe('TransferNotApproved');
    expect(status.failure.message).toContain('not approved in time');
    expect(stepList(status)).toEqual([
      'withdraw:completed',
      `sleep ${APPROVAL_TIMEOUT_MS}ms:fired`,
      'refund:completed:compensation',
    ]);
    const { timer, refund } = {
      timer: stepsByName(status)[`sleep ${APPROVAL_TIMEOUT_MS}ms`],
      refund: stepsByName(status).refund,
    };
    expect(Date.parse(refund.startedAt) - Date.parse(timer.startedAt)).toBeGreaterThanOrEqual(APPROVAL_TIMEOUT_MS);
    expect(await api.balance(from)).toBe(2500);
    expect(await api.balance(to)).toBe(0);

    const late = await api.post(`/transfers/${transferId}/approve`, { by: 'alice' });
    expect(late.status).toBe(409);
    expect(late.body.message).toBe(`transfer ${transferId} is no longer awaiting approval: it was expired`);
  });

  test('cancel while awaiting approval: the refund runs as a compensation and the workflow ends canceled', async () => {
    const { from, to, transferId } = await awaitingApproval(1500, 1500);
    expect(await api.balance(from)).toBe(0);

    const cancelled = await api.post(`/transfers/${transferId}/cancel`, { reason: 'customer changed their mind' });
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toEqual({ transferId, workflowId: `transfer-${transferId}`, request: 'cancel' });

    const status = await api.waitForTransfer(transferId, 10_000);
    expect(status.status).toBe('canceled');
    expect(status.stage).toBe('canceled');
    expect(status.failure.message).toContain('customer changed their mind');
    expect(stepsByName(status).refund).toMatchObject({ status: 'completed', compensation: true, attempts: 1 });
    expect(stepsByName(status).deposit).toBeUndefined();
    expect(await api.balance(from)).toBe(1500);
    expect(await api.balance(to)).toBe(0);

    const again = await api.post(`/transfers/${transferId}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.message).toBe(`transfer ${transferId} cannot be cancelled: it is canceled`);
    const approve = await api.post(`/transfers/${transferId}/approve`, { by: 'alice' });
    expect(approve.status).toBe(409);
  });

  test('an amount up to the limit needs no approval: it completes on its own, and approve answers 409', async () => {
    const from = await api.openAccount(APPROVAL_LIMIT);
    const to = await api.openAccount(0);
    const started = await api.post('/transfers', { from, to, amount: APPROVAL_LIMIT });
    expect(started.status).toBe(201);
    const { transferId } = started.body as { transferId: string };
    const approve = await api.post(`/transfers/${transferId}/approve`, { by: 'alice' });
    expect(approve.status).toBe(409);
    expect(approve.body.message).toBe(
      `transfer ${transferId} needs no approval: its amount is not above the approval limit`,
    );

    const status = await api.waitForTransfer(transferId, 10_000);
    expect(status).toMatchObject({ status: 'completed', stage: 'completed' });
    expect(status.approval).toBeUndefined();
    expect(stepList(status)).toEqual(['withdraw:completed', 'sleep 1000ms:fired', 'deposit:completed']);
    expect(await api.balance(to)).toBe(APPROVAL_LIMIT);
  });

  test('bad requests: 400 for a missing or empty approver, 404 for an unknown transfer', async () => {
    const { transferId } = await awaitingApproval(1200, 1200);
    const missing = await api.post(`/transfers/${transferId}/approve`, {});
    expect(missing.status).toBe(400);
    expect(missing.body.message).toEqual(expect.arrayContaining([expect.stringContaining('by must')]));
    const empty = await api.post(`/transfers/${transferId}/reject`, { by: '' });
    expect(empty.status).toBe(400);
    const unknownField = await api.post(`/transfers/${transferId}/approve`, { by: 'alice', amount: 1 });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.message).toEqual(['property amount should not exist']);

    for (const [method, path, body] of [
      ['GET', 'stage'],
      ['POST', 'approve', { by: 'alice' }],
      ['POST', 'reject', { by: 'alice' }],
      ['POST', 'cancel'],
    ] as const) {
      const res = await api.call(method, `/transfers/no-such-transfer/${path}`, body);
      expect(res.status).toBe(404);
      expect(res.body.message).toBe('transfer no-such-transfer was not found');
    }

    // the transfer the bad requests were about is still waiting; cancel it (its refund is covered above)
    expect((await api.get(`/transfers/${transferId}/stage`)).body.stage).toBe('awaiting-approval');
    expect((await api.post(`/transfers/${transferId}/cancel`)).status).toBe(202);
    expect((await api.waitForTransfer(transferId, 10_000)).status).toBe('canceled');
  });
});

describe('the stage query with no worker running', () => {
  const prefix = `sample-approval-nw-${randomUUID().slice(0, 8)}`;
  const apps: SampleApp[] = [];

  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  test('a client-only app answers the stage and records an approval; a worker started later completes the transfer', async () => {
    const first = await createSampleApp(sampleOptions(prefix, '1 min'));
    apps.push(first);
    let api = apiClient(first.url);
    const from = await api.openAccount(8000);
    const to = await api.openAccount(0);
    const started = await api.post('/transfers', { from, to, amount: 8000 });
    expect(started.status).toBe(201);
    const { transferId } = started.body as { transferId: string };
    await waitForStage(api, transferId, 'awaiting-approval');
    await first.close();

    const clientOnly = await createSampleApp({ ...sampleOptions(prefix, '1 min'), durable: { worker: false } });
    apps.push(clientOnly);
    api = apiClient(clientOnly.url);
    expect((await api.get(`/transfers/${transferId}/stage`)).body).toMatchObject({
      stage: 'awaiting-approval',
      approval: { status: 'pending' },
    });
    expect((await api.post(`/transfers/${transferId}/approve`, { by: 'carol' })).status).toBe(202);
    // the query replays the recorded signal: it sees the approval though no worker acted on it yet
    expect((await api.get(`/transfers/${transferId}/stage`)).body).toMatchObject({
      stage: 'withdrawn',
      approval: { status: 'approved', by: 'carol' },
    });
    await new Promise((r) => setTimeout(r, 300));
    const waiting = await api.get(`/transfers/${transferId}`);
    expect(waiting.body.status).toBe('running');
    expect(stepList(waiting.body)).toEqual(['withdraw:completed', 'sleep 60000ms:waiting']);
    expect(await api.balance(to)).toBe(0);
    await clientOnly.close();

    const worker = await createSampleApp(sampleOptions(prefix, '1 min'));
    apps.push(worker);
    api = apiClient(worker.url);
    const status = await api.waitForTransfer(transferId, 10_000);
    expect(status).toMatchObject({
      status: 'completed',
      stage: 'completed',
      approval: { status: 'approved', by: 'carol' },
    });
    expect(await api.balance(from)).toBe(0);
    expect(await api.balance(to)).toBe(8000);
  });
});
