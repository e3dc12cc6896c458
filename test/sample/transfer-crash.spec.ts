/**
 * The sample survives a crash: 100 transfers between 10 accounts, the server process SIGKILLed
 * while they run, a new process started on the same Redis and prefix. Every transfer ends, no
 * money appears or disappears, and each completed transfer debited and credited exactly once.
 *
 * The server is the compiled `test/fixtures/sample-server.ts` (`npm test` builds it), a real
 * child process with short leases and a fast recovery sweep.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTestApp, testRedisUrl, type TestApp, keyNames } from '../support/test-app.js';
import { apiClient } from './sample-http.js';
import { operationsByWorkflow, prng } from '../../tools/transfer-audit.js';

const SERVER = fileURLToPath(new URL('../../dist/test/fixtures/sample-server.js', import.meta.url));
const prefix = `sample-crash-${randomUUID().slice(0, 8)}`;

interface Server {
  process: ChildProcess;
  url: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

const servers: Server[] = [];
let observer: TestApp; // a client-only DurableModule on the same prefix, to watch the workflows

/** Starts the sample server in its own process; `url` resolves once it listens. */
function startServer(): Server {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, REDIS_URL: testRedisUrl(), PREFIX: prefix, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sample server did not listen within 15s:\n${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`the sample server exited (${e.code ?? e.signal}) before listening:\n${out}`));
    });
  });
  url.catch(() => undefined); // observed by whoever awaits it
  const server = { process: child, url, exited, output: () => out };
  servers.push(server);
  return server;
}

async function stopServer(server: Server): Promise<void> {
  if (server.process.exitCode !== null || server.process.signalCode !== null) return;
  server.process.kill('SIGTERM');
  const timer = setTimeout(() => server.process.kill('SIGKILL'), 10_000);
  await server.exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  observer = await createTestApp([], { prefix, worker: false });
});

afterAll(async () => {
  await Promise.all(servers.map(stopServer));
  await observer?.close();
});

const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Planned {
  from: string;
  to: string;
  amount: number;
  failDeposit?: number;
}

interface Started extends Planned {
  transferId: string;
  workflowId: string;
}

/** Workflow status of every transfer, through the library's client. */
async function statuses(transfers: Started[]): Promise<string[]> {
  return Promise.all(transfers.map(async (t) => (await observer.client.getHandle(t.workflowId).describe()).status));
}

/** How many running transfers wait on each step: `withdraw`, `sleep`, `deposit`, `refund`. */
async function stepsOfRunning(transfers: Started[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of transfers) {
    const handle = observer.client.getHandle(t.workflowId);
    if ((await handle.describe()).status !== 'running') continue;
    const last = (await handle.fetchHistory())
      .filter((e) => e.type === 'ActivityTaskScheduled' || e.type === 'TimerStarted')
      .at(-1);
    const step =
      last?.type === 'ActivityTaskScheduled' ? last.activityType : last?.type === 'TimerStarted' ? 'sleep' : 'start';
    counts[step] = (counts[step] ?? 0) + 1;
  }
  return counts;
}

/** What a workflow that did not finish is waiting for: its description, its history, its jobs. */
async function diagnose(workflowId: string): Promise<string> {
  const handle = observer.client.getHandle(workflowId);
  const description = await handle.describe();
  const history = (await handle.fetchHistory()).map(
    (e) => `${new Date(e.ts).toISOString()} ${e.type}${'seq' in e ? `#${e.seq}` : ''}`,
  );
  const meta = await observer.redis.hgetall(keyNames(prefix).meta(workflowId));
  const jobs: string[] = [];
  for (const queue of ['{transfers-workflows}', '{transfers-activities}']) {
    for (const state of ['wait', 'active', 'delayed', 'prioritized', 'paused', 'completed', 'failed']) {
      const key = `${prefix}:${queue}:${state}`;
      const type = await observer.redis.type(key);
      const ids =
        type === 'list'
          ? await observer.redis.lrange(key, 0, -1)
          : type === 'zset'
            ? await observer.redis.zrange(key, '0', '-1')
            : [];
      for (const id of ids) {
        if (!id.includes(workflowId)) continue;
        const {
          data: _data,
          returnvalue: _rv,
          opts: _opts,
          ...job
        } = await observer.redis.hgetall(`${prefix}:${queue}:${id}`);
        jobs.push(`${queue}/${state}: ${id} ${JSON.stringify(job)}`);
      }
    }
  }
  return JSON.stringify({ workflowId, description, history, meta, jobs }, null, 1);
}

describe('the money-transfer sample killed with SIGKILL in the middle of 100 transfers', () => {
  test('after a restart every transfer ends, the total is unchanged, and completed transfers moved money exactly once', async () => {
    const first = startServer();
    const api = apiClient(await first.url);

    // 10 accounts; the small ones run out of money, and one is frozen (transfers to it are refunded).
    const openingBalances = [5000, 4000, 3000, 2000, 1500, 1000, 800, 500, 300, 200];
    const accounts: string[] = [];
    for (const balance of openingBalances) accounts.push(await api.openAccount(balance));
    const initial = new Map(accounts.map((id, i) => [id, openingBalances[i]]));
    const initialTotal = openingBalances.reduce((a, b) => a + b, 0);
    const frozen = accounts[3];
    expect((await api.post(`/accounts/${frozen}/freeze`)).status).toBe(200);

    const random = prng(20240611);
    const plan: Planned[] = Array.from({ length: 100 }, (_, i) => {
      const from = accounts[Math.floor(random() * accounts.length)];
      let to = accounts[Math.floor(random() * (accounts.length - 1))];
      if (to === from) to = accounts[accounts.length - 1];
      const amount = i % 17 === 16 ? 1_000_000 : 1 + Math.floor(random() * 400); // some can never be paid
      // a flaky bank: 1 or 2 failed deposit attempts, then success; 5 failed attempts: fails for good, refunded
      const failDeposit = i % 7 === 1 ? 1 : i % 7 === 4 ? 2 : i % 12 === 6 ? 5 : undefined;
      return { from, to, amount, ...(failDeposit ? { failDeposit } : {}) };
    });

    // Start them in 10 waves, 150ms apart, so the crash finds transfers at different steps.
    const started: Started[] = [];
    for (let wave = 0; wave < 10; wave++) {
      const batch = plan.slice(wave * 10, wave * 10 + 10);
      const replies = await Promise.all(batch.map((t) => api.post('/transfers', t)));
      replies.forEach((r, i) => {
        if (r.status !== 201) throw new Error(`POST /transfers answered ${r.status}: ${JSON.stringify(r.body)}`);
        started.push({ ...batch[i], transferId: r.body.transferId, workflowId: r.body.workflowId });
      });
      await sleepMs(150);
    }

    // Kill once some have completed, while most are still running.
    const deadlineToKill = Date.now() + 20_000;
    let atKill: string[];
    for (;;) {
      atKill = await statuses(started);
      if (atKill.filter((s) => s === 'completed').length >= 15) break;
      if (Date.now() > deadlineToKill)
        throw new Error(`fewer than 15 transfers completed within 20s: ${JSON.stringify(atKill)}\n${first.output()}`);
      await sleepMs(50);
    }
    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    // The crash really interrupted transfers in flight, at different steps.
    const stepsAtKill = await stepsOfRunning(started);
    const runningAtKill = Object.values(stepsAtKill).reduce((a, b) => a + b, 0);
    expect(runningAtKill).toBeGreaterThanOrEqual(20);
    expect(Object.keys(stepsAtKill).length).toBeGreaterThanOrEqual(2);

    // A new process on the same Redis and prefix takes over.
    const second = startServer();
    const api2 = apiClient(await second.url);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const now = await statuses(started);
      if (now.every((s) => s !== 'running')) break;
      if (Date.now() > deadline) {
        const stuck = await Promise.all(
          started.filter((_, i) => now[i] === 'running').map((t) => diagnose(t.workflowId)),
        );
        throw new Error(
          `${stuck.length} transfers still running 30s after the restart:\n${stuck.join('\n')}\n${second.output()}`,
        );
      }
      await sleepMs(250);
    }

    // Every transfer reached a final state, as the restarted API reports it.
    const finals = await Promise.all(started.map((t) => api2.waitForTransfer(t.transferId, 5_000)));
    const completed = started.filter((_, i) => finals[i].status === 'completed');
    const failed = started.filter((_, i) => finals[i].status === 'failed');
    expect(completed.length + failed.length).toBe(100);
    // the mix really happened: successes, refusals and refunds
    expect(completed.length).toBeGreaterThanOrEqual(30);
    expect(failed.length).toBeGreaterThanOrEqual(10);
    for (const [i, t] of started.entries()) {
      if (finals[i].status === 'completed')
        expect(finals[i].result).toMatchObject({
          status: 'completed',
          transferId: t.transferId,
          from: t.from,
          to: t.to,
          amount: t.amount,
        });
      // a frozen destination, a bank down for 5 attempts, or an amount nobody has can never complete
      if (t.to === frozen || (t.failDeposit ?? 0) >= 5 || t.amount > initialTotal)
        expect(finals[i].status).toBe('failed');
    }

    // No money was created or destroyed.
    const balances = new Map<string, number>();
    for (const id of accounts) balances.set(id, await api2.balance(id));
    expect([...balances.values()].reduce((a, b) => a + b, 0)).toBe(initialTotal);

    // Each account holds exactly its opening balance, minus completed transfers out, plus completed transfers in:
    // completed transfers moved their amount once, failed ones moved nothing in net.
    const expected = new Map(initial);
    for (const t of completed) {
      expected.set(t.from, expected.get(t.from)! - t.amount);
      expected.set(t.to, expected.get(t.to)! + t.amount);
    }
    expect(Object.fromEntries(balances)).toEqual(Object.fromEntries(expected));

    // The ledger's idempotency records: a completed transfer debited its source once and credited its
    // destination once; a refused one (TransferFailed) touched no account; a refunded one
    // (TransferRefunded) debited its source once, credited it back once, and never credited its destination.
    const ops = new Map<string, Map<string, number>>();
    for (const id of accounts) ops.set(id, await operationsByWorkflow(observer.redis as Redis, id));
    const opsOf = (account: string, workflowId: string) => ops.get(account)!.get(workflowId) ?? 0;
    const report = (t: Started, i: number) => ({
      ...t,
      status: finals[i].status,
      failure: finals[i].failure,
      atSource: opsOf(t.from, t.workflowId),
      atDestination: opsOf(t.to, t.workflowId),
    });
    const recorded = started.map(report);
    expect(recorded.filter((r) => r.status === 'completed' && (r.atSource !== 1 || r.atDestination !== 1))).toEqual([]);
    const refused = recorded.filter((r) => r.status === 'failed' && r.failure?.type === 'TransferFailed');
    const refunded = recorded.filter((r) => r.status === 'failed' && r.failure?.type === 'TransferRefunded');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refunded.length).toBeGreaterThanOrEqual(1);
    expect(refused.length + refunded.length).toBe(failed.length);
    expect(refused.filter((r) => r.atSource !== 0 || r.atDestination !== 0)).toEqual([]);
    expect(refunded.filter((r) => r.atSource !== 2 || r.atDestination !== 0)).toEqual([]);
    // and no operation belongs to anything but these transfers
    const ours = new Set(started.map((t) => t.workflowId));
    for (const [account, byWorkflow] of ops)
      expect([...byWorkflow.keys()].filter((w) => !ours.has(w)).map((w) => `${account}: ${w}`)).toEqual([]);

    await stopServer(second);
    expect(second.process.exitCode).toBe(0);
  }, 120_000);
});
