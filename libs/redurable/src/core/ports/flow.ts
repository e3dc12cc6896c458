/**
 * Flow control (issue 24): concurrency slots and rate windows per (limit name, key), shared by
 * every process of a prefix. A holder is whatever takes a slot: `wf:<workflowId>` for a workflow,
 * `act:<workflowId>|<runId>|<seq>` for an activity (see {@link workflowHolder} and {@link activityHolder}). Every operation is
 * idempotent per holder, so a call whose reply was lost can be made again.
 */

/** One limit's slots for one key: the limit's name and the key (`''` for a limit without a key function). */
export interface FlowLimitKey {
  name: string;
  key: string;
}

/** How a holder asks for a slot. */
export interface FlowAcquire {
  /** How many may hold a slot of this key at once. */
  limit: number;
  /** The slot expires this long after it is taken (or renewed) unless renewed; undefined: it never expires (a workflow's, freed by its run's end or the sweep). */
  ttlMs?: number;
  /** 1 (first) to 10; waiters of a key are taken by priority, then arrival. @default 5 */
  priority?: number;
  /**
   * A waiter that asks again (a delayed job coming back) is dropped when it has not asked for
   * this long: it is gone (its job removed, its run closed), and must not keep the slot it would
   * be next for. Undefined: the waiter stays until released (a workflow's, which does not ask again).
   */
  waiterTtlMs?: number;
}

/** A slot taken (or already held), or refused with how many wait before this holder. */
export type FlowAcquireResult = { granted: true } | { granted: false; ahead: number };

/** What releasing a slot did: whether the holder held it (or waited), and the waiters now first in line, for the caller to wake. */
export interface FlowReleaseResult {
  released: boolean;
  wake: string[];
}

/** A rate window's answer: allowed (a start recorded for the holder), or the time until one is. */
export type FlowRateResult = { allowed: true } | { allowed: false; retryAfterMs: number };

/** What a holder does at a key now: holds a slot, waits (with how many before it), or neither. */
export type FlowPosition = { state: 'holding' } | { state: 'waiting'; ahead: number } | { state: 'none' };

/** How many hold a slot of one concurrency limit, and how many wait for one, summed over its keys. */
export interface FlowLimitUsage {
  /** The limit's name (the workflow type, `Type.method` of an activity, or the `name` it was given). */
  limit: string;
  running: number;
  waiting: number;
}

/** The flow control port (store/flow-store.ts implements it on Redis). */
export interface FlowControl {
  /**
   * Takes a slot for `holder`: granted when it already holds one (a lost reply), or when a slot
   * is free and it is among the first waiters for the free slots (or none wait); otherwise it
   * is added to the waiters (once: its place is kept) and refused.
   */
  acquire(at: FlowLimitKey, holder: string, options: FlowAcquire): Promise<FlowAcquireResult>;
  /** Frees the holder's slot (or its place among the waiters); `limit` lets the reply name the waiters to wake. Idempotent. */
  release(at: FlowLimitKey, holder: string, limit?: number): Promise<FlowReleaseResult>;
  /** Extends the holder's slot to ttl from now; false when it no longer holds one (it expired and was dropped). */
  renew(at: FlowLimitKey, holder: string, ttlMs: number): Promise<boolean>;
  /** Records a start for `holder` when fewer than `limit` started in the last `periodMs`; idempotent per holder. */
  takeRate(at: FlowLimitKey, holder: string, rate: { limit: number; periodMs: number }): Promise<FlowRateResult>;
  /** Where the holder stands at a key (for `describe().waitingFor`). */
  position(at: FlowLimitKey, holder: string): Promise<FlowPosition>;
  /** How many hold a slot of the key (expired ones not counted) and how many wait. */
  usage(at: FlowLimitKey): Promise<{ running: number; waiting: number }>;
  /**
   * Every concurrency limit in use across the cluster, with its holders and waiters summed over
   * its keys (for metrics: bounded, it reads at most a few thousand keys).
   */
  usageByLimit(): Promise<FlowLimitUsage[]>;
  /** The holders of a key's slots, with when each expires (`Infinity`: never). */
  holders(at: FlowLimitKey): Promise<{ holder: string; expiresAt: number }[]>;
}

/** The holder id of a workflow (its slot is kept across continue-as-new and reset). */
export function workflowHolder(workflowId: string): string {
  return `wf:${workflowId}`;
}

/** The holder id of an activity: one per scheduled activity, whichever attempt runs. */
export function activityHolder(workflowId: string, runId: string, seq: number): string {
  return `act:${workflowId}|${runId}|${seq}`;
}
