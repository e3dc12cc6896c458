import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createSampleApp, type SampleApp } from '../../sample-app/sample-app.factory.js';
import { testRedisUrl } from '../support/test-app.js';
import { apiClient } from './sample-http.js';

const prefix = `sample-${randomUUID().slice(0, 8)}`;
let sample: SampleApp;
let redis: Redis;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  sample = await createSampleApp({
    redisUrl: testRedisUrl(),
    port: 0,
    prefix,
    logger: false,
    durable: { leaseTtl: '2s', sweepInterval: '500ms' },
  });
  api = apiClient(sample.url);
  redis = new Redis(testRedisUrl());
});

afterAll(async () => {
  await sample?.close();
  await redis?.quit();
});

const stepsByName = (status: { steps: { name: string }[] }) =>
  Object.fromEntries(status.steps.map((s) => [s.name, s])) as Record<string, any>;

describe('money transfer sample over HTTP', () => {
  test('a transfer moves exactly the amount, with withdraw, a durable timer and deposit as steps', async () => {
    const from = await api.openAccount(1000);
    const to = await api.openAccount(50);
    const started = await api.post('/transfers', { from, to, amount: 300 });
    expect(started.status).toBe(201);
    expect(started.body.workflowId).toBe(`transfer-${started.body.transferId}`);

    const status = await api.waitForTransfer(started.body.transferId);
    expect(status.status).toBe('completed');
    expect(status.result).toMatchObject({
      status: 'completed',
      transferId: started.body.transferId,
      from,
      to,
      amount: 300,
    });
    expect(status.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
      'withdraw:completed',
      'sleep 1000ms:fired',
      'deposit:completed',
    ]);
    expect(stepsByName(status).deposit.attempts).toBe(1);
    expect(await api.balance(from)).toBe(700);
    expect(await api.balance(to)).toBe(350);

    const described = await api.get(`/api/workflows/${started.body.workflowId}`);
    expect(described.status).toBe(200);
    expect(described.body).toMatchObject({
      workflowId: started.body.workflowId,
      workflowType: 'TransferWorkflow',
      taskQueue: 'transfers',
      status: 'completed',
    });
    const history = await api.get(`/api/workflows/${started.body.workflowId}/history`);
    expect(history.status).toBe(200);
    expect(history.body.events[0].type).toBe('WorkflowExecutionStarted');
    expect(history.body.events.at(-1).type).toBe('WorkflowExecutionCompleted');
  });

  test('a flaky bank: the deposit fails twice, is retried, and the transfer completes on attempt 3', async () => {
    const from = await api.openAccount(500);
    const to = await api.openAccount(0);
    const started = await api.post('/transfers', { from, to, amount: 120, failDeposit: 2 });
    expect(started.status).toBe(201);

    const status = await api.waitForTransfer(started.body.transferId);
    expect(status.status).toBe('completed');
    expect(stepsByName(status).deposit).toMatchObject({ status: 'completed', attempts: 3 });
    expect(stepsByName(status).withdraw).toMatchObject({ status: 'completed', attempts: 1 });
    expect(await api.balance(from)).toBe(380);
    expect(await api.balance(to)).toBe(120);
  });

  test('a frozen destination: the deposit fails for good, the money is refunded and the failure says why', async () => {
    const from = await api.openAccount(400);
    const to = await api.openAccount(10);
    const frozen = await api.post(`/accounts/${to}/freeze`);
    expect(frozen.status).toBe(200);
    expect(frozen.body).toMatchObject({ id: to, frozen: true });

    const started = await api.post('/transfers', { from, to, amount: 150 });
    expect(started.status).toBe(201);
    const status = await api.waitForTransfer(started.body.transferId);
    expect(status.status).toBe('failed');
    expect(status.failure.type).toBe('TransferRefunded');
    expect(status.failure.message).toContain(`account ${to} is frozen`);
    expect(status.failure.message).toContain('refunded');
    expect(stepsByName(status).deposit).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError: `account ${to} is frozen`,
    });
    expect(stepsByName(status).refund).toMatchObject({ status: 'completed', compensation: true });
    expect(await api.balance(from)).toBe(400);
    expect(await api.balance(to)).toBe(10);
  });

  test('insufficient balance: the withdrawal is refused, the transfer fails, and no balance changes', async () => {
    const from = await api.openAccount(20);
    const to = await api.openAccount(5);
    const started = await api.post('/transfers', { from, to, amount: 100 });
    expect(started.status).toBe(201);

    const status = await api.waitForTransfer(started.body.transferId);
    expect(status.status).toBe('failed');
    expect(status.failure.type).toBe('TransferFailed');
    expect(status.failure.message).toContain(`insufficient funds in account ${from}`);
    expect(status.steps).toHaveLength(1);
    expect(status.steps[0]).toMatchObject({ name: 'withdraw', status: 'failed', attempts: 1 });
    expect(await api.balance(from)).toBe(20);
    expect(await api.balance(to)).toBe(5);
  });

  test('an invalid body answers 400 naming the field, and starts no workflow', async () => {
    const from = await api.openAccount(100);
    const to = await api.openAccount(0);
    const openBefore = await redis.zcard(`${prefix}:open`);
    const workflowKeysBefore = (await redis.keys(`${prefix}:{*}:wf:*`)).length;

    const negative = await api.post('/transfers', { from, to, amount: -5 });
    expect(negative.status).toBe(400);
    expect(negative.body.message).toEqual(expect.arrayContaining([expect.stringContaining('amount')]));

    const unknownField = await api.post('/transfers', { from, to, amount: 5, sneaky: true });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.message).toEqual(['property sneaky should not exist']);

    const missing = await api.post('/transfers', { from, amount: 5 });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toEqual(expect.arrayContaining([expect.stringContaining('to must')]));

    const unknownAccount = await api.post('/transfers', { from, to: 'nobody-here', amount: 5 });
    expect(unknownAccount.status).toBe(404);
    expect(unknownAccount.body.message).toBe('account nobody-here does not exist');

    expect(await redis.zcard(`${prefix}:open`)).toBe(openBefore);
    expect((await redis.keys(`${prefix}:{*}:wf:*`)).length).toBe(workflowKeysBefore);
    expect(await api.balance(from)).toBe(100);
  });

  test('accounts: duplicates answer 409, unknown ids 404, bad bodies 400', async () => {
    const id = await api.openAccount(1);
    expect((await api.post('/accounts', { id, balance: 3 })).status).toBe(409);
    expect((await api.get('/accounts/no-such-account')).status).toBe(404);
    const bad = await api.post('/accounts', { id: 'x y', balance: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toEqual(
      expect.arrayContaining([expect.stringContaining('id must'), expect.stringContaining('balance must')]),
    );
  });
});

describe('console', () => {
  test('Bull Board answers at /queues and lists the library queues', async () => {
    const page = await api.get('/queues');
    expect(page.status).toBe(200);
    expect(page.contentType).toContain('text/html');

    const queues = await api.get('/queues/api/queues');
    expect(queues.status).toBe(200);
    const names = (queues.body.queues as { name: string }[]).map((q) => q.name).sort();
    expect(names).toEqual(['{schedules}', '{transfers-activities}', '{transfers-workflows}']);
  });

  test('the workflow explorer answers 404 with a clear message for an unknown id', async () => {
    for (const path of ['/api/workflows/transfer-none', '/api/workflows/transfer-none/history', '/transfers/none']) {
      const res = await api.get(path);
      expect(res.status).toBe(404);
      expect(res.body.message).toMatch(/not found/);
    }
  });
});
