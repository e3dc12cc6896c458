import { randomUUID } from 'node:crypto';
import { until } from '../support/until.js';

/** A JSON response: status and parsed body. */
export interface ApiResponse<T = any> {
  status: number;
  body: T;
  contentType: string;
}

/** Calls the sample app over HTTP, as a user would. */
export function apiClient(baseUrl: string) {
  async function call<T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const contentType = res.headers.get('content-type') ?? '';
    const text = await res.text();
    return { status: res.status, body: contentType.includes('json') ? JSON.parse(text) : text, contentType };
  }

  return {
    call,
    get: <T = any>(path: string) => call<T>('GET', path),
    post: <T = any>(path: string, body?: unknown) => call<T>('POST', path, body),

    /** Opens an account with a random id and returns the id. */
    async openAccount(balance: number): Promise<string> {
      const id = `acct-${randomUUID().slice(0, 12)}`;
      const res = await call('POST', '/accounts', { id, balance });
      if (res.status !== 201) throw new Error(`POST /accounts answered ${res.status}: ${JSON.stringify(res.body)}`);
      return id;
    },

    async balance(id: string): Promise<number> {
      const res = await call('GET', `/accounts/${id}`);
      if (res.status !== 200)
        throw new Error(`GET /accounts/${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.balance as number;
    },

    /** Polls `GET /transfers/:id` until the transfer is no longer running, or throws after `timeoutMs`. */
    async waitForTransfer(transferId: string, timeoutMs = 20_000): Promise<any> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await call('GET', `/transfers/${transferId}`);
        if (res.status !== 200)
          throw new Error(`GET /transfers/${transferId} answered ${res.status}: ${JSON.stringify(res.body)}`);
        if (res.body.status !== 'running') return res.body;
        if (Date.now() > deadline)
          throw new Error(`transfer ${transferId} still running after ${timeoutMs}ms: ${JSON.stringify(res.body)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/**
 * What the explorer tests look at, on a sample started with `approvalLimit: 500`: a transfer
 * to a frozen account, which ends refunded, and one above the limit, waiting for approval.
 */
export async function seedRefundedAndWaiting(
  api: ReturnType<typeof apiClient>,
): Promise<{ refunded: string; waiting: string }> {
  const rich = await api.openAccount(5000);
  const frozen = await api.openAccount(10);
  await api.post(`/accounts/${frozen}/freeze`);
  const refunded = (await api.post('/transfers', { from: rich, to: frozen, amount: 40 })).body.workflowId as string;
  const waiting = (await api.post('/transfers', { from: rich, to: await api.openAccount(0), amount: 900 })).body
    .workflowId as string;
  await api.waitForTransfer(refunded);
  await until(
    'the large transfer to wait for approval',
    async () => (await api.get(`/transfers/${waiting}`)).body.stage === 'awaiting-approval',
  );
  return { refunded, waiting };
}
