import type { Redis } from 'ioredis';

/** A small deterministic PRNG (mulberry32), so a run can replay the same mix of transfers. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The sample ledger's idempotency records (one per applied debit or credit) of an account, counted by workflow id. */
export async function operationsByWorkflow(redis: Redis, account: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const marker = `bank:{acct:${account}}:op:`;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${marker}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      // the idempotency key is `<workflowId>/<runId>/<seq>`
      const workflowId = key.slice(marker.length).split('/')[0];
      counts.set(workflowId, (counts.get(workflowId) ?? 0) + 1);
    }
  } while (cursor !== '0');
  return counts;
}

/** One transfer and how it ended. */
export interface SettledTransfer {
  workflowId: string;
  from: string;
  to: string;
  amount: number;
  status: 'completed' | 'failed' | string;
  /** `TransferFailed` (refused, nothing moved) or `TransferRefunded` (taken, then given back). */
  failureType?: string;
}

/**
 * What must hold after any number of crashes, lost replies and lost jobs: no money created or
 * destroyed; each account at its opening balance minus completed transfers out plus completed
 * transfers in; a completed transfer debited once and credited once, a refused one touched
 * nothing, a refunded one debited its source once, credited it back once and never credited its
 * destination. Returns the violations (empty when all holds).
 */
export async function auditTransfers(
  redis: Redis,
  opening: Map<string, number>,
  balances: Map<string, number>,
  transfers: SettledTransfer[],
): Promise<string[]> {
  const problems: string[] = [];
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  if (total(balances) !== total(opening))
    problems.push(`money not conserved: ${total(opening)} at the start, ${total(balances)} at the end`);
  const expected = new Map(opening);
  for (const t of transfers.filter((x) => x.status === 'completed')) {
    expected.set(t.from, expected.get(t.from)! - t.amount);
    expected.set(t.to, expected.get(t.to)! + t.amount);
  }
  for (const [account, balance] of balances) {
    if (expected.get(account) !== balance)
      problems.push(`account ${account} holds ${balance}, expected ${expected.get(account)}`);
  }
  const ops = new Map<string, Map<string, number>>();
  for (const account of opening.keys()) ops.set(account, await operationsByWorkflow(redis, account));
  const opsOf = (account: string, workflowId: string) => ops.get(account)!.get(workflowId) ?? 0;
  for (const t of transfers) {
    const seen = [opsOf(t.from, t.workflowId), opsOf(t.to, t.workflowId)];
    const want =
      t.status === 'completed'
        ? [1, 1]
        : t.failureType === 'TransferFailed'
          ? [0, 0]
          : t.failureType === 'TransferRefunded'
            ? [2, 0]
            : undefined;
    if (!want) problems.push(`transfer ${t.workflowId} ended ${t.status} (${t.failureType ?? 'no failure type'})`);
    else if (seen[0] !== want[0] || seen[1] !== want[1]) {
      problems.push(
        `transfer ${t.workflowId} (${t.status} ${t.failureType ?? ''}) has ${seen[0]} operations at its source and ${seen[1]} at its destination, expected ${want[0]} and ${want[1]}`,
      );
    }
  }
  const ours = new Set(transfers.map((t) => t.workflowId));
  for (const [account, byWorkflow] of ops) {
    for (const w of byWorkflow.keys())
      if (!ours.has(w)) problems.push(`account ${account} has an operation of unknown workflow ${w}`);
  }
  return problems;
}
