import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawEntry } from '../entries.js';
import { INDEX_NAMES } from '../keys.js';
import { META_FIELDS } from '../meta-schema.js';

const LUA_DIR = dirname(fileURLToPath(import.meta.url));
const INCLUDE = /^--- @include "([\w-]+)"$/gm;

/**
 * Reply codes of the scripts, shared with Lua: every script starts with `local R = {...}` built
 * from this object, so `R.ACQUIRED` in Lua and `Reply.ACQUIRED` here are the same number.
 */
export const Reply = {
  /** Written: recorded, started, committed (lease released or kept), verdict written. */
  OK: 1,
  /** The run is not running (or is another run, or the outcome was already taken): nothing written. */
  NOT_RUNNING: 0,
  /** The lease was taken: {ACQUIRED, fence, full, entries}. */
  ACQUIRED: 2,
  /** Recorded; the lease is free, so the caller must enqueue a workflow task. */
  NEEDS_TASK: 3,
  /** A speculative step's outcome and commands were committed: {COMMITTED, fence, lastId}. */
  COMMITTED: 5,
  /** Committed; new events arrived meanwhile and the lease was kept: {MORE, lastId, entries}. */
  MORE: 6,
  /** A start used the running run: {EXISTING, runId, wake}. */
  EXISTING: 7,
  /** A debounced start replaced a waiting run's input and start time: {DEBOUNCED, runId, startAt, previousStartAt}. */
  DEBOUNCED: 8,
  /** A debounced run is not due yet: {NOT_DUE, inMs} (by Redis' clock; its task came early). */
  NOT_DUE: 9,
  /** A start found a run running and the conflict policy is FAIL: {CONFLICT, runId}. */
  CONFLICT: -1,
  /** Another task holds a valid lease. */
  BUSY: -2,
  /** The caller's lease is gone (its fence moved on): nothing written. */
  LEASE_LOST: -3,
  /** The run is pinned to another build than the caller's: {WRONG_BUILD, build, priority, fence}; nothing written. */
  WRONG_BUILD: -6,
  /** The id's last run is closed and the reuse policy forbids a new one: {REUSE_REJECTED, status}. */
  REUSE_REJECTED: -4,
  /** The recovery sweep's verdict was not written: the workflow changed since it was read. */
  CHANGED: -5,
  /** The current run changed since the caller read it: read again and retry. */
  RETRY: -9,
} as const;
export type ReplyCode = (typeof Reply)[keyof typeof Reply];

/**
 * Every script: its file in lua/ and the names of its KEYS, in order. A script may also name
 * keys of its workflow's shard inside Lua from `O.idx` and the index names `I` (status, type
 * and due indexes, whose names depend on values it reads); they share the shard's hash tag, so
 * the same slot.
 */
export const SCRIPT_KEYS = {
  startWorkflow: ['meta', 'history', 'done', 'currentHistory', 'currentDone', 'requests', 'requestTimes'],
  appendExternal: ['meta', 'history', 'requests', 'requestTimes'],
  terminate: ['meta', 'history', 'done', 'requests', 'requestTimes'],
  appendCompletion: ['meta', 'history', 'done'],
  completeAndCommit: ['meta', 'history', 'done', 'nextHistory'],
  acquireTask: ['meta', 'history'],
  commitTask: ['meta', 'history', 'done', 'nextHistory'],
  failTask: ['meta'],
  rescheduleCheck: ['meta', 'dueIndex'],
  childNotified: ['notifyIndex', 'notifyData'],
  parentHandled: ['closedParentsIndex', 'closedParentsData'],
  sweepClaim: ['lock'],
  scheduleLock: ['lock'],
  scheduleWrite: ['lock', 'state', 'actions'],
  scheduleHolds: ['holds'],
  activityClaim: ['meta'],
  resetWorkflow: ['meta', 'oldHistory', 'oldDone', 'newHistory', 'newDone'],
  updateBuild: ['meta'],
  flowGranted: ['meta'],
  flowReleased: ['releaseIndex', 'releaseData'],
  flowAcquire: ['holders', 'waiters', 'deadlines'],
  flowRelease: ['holders', 'waiters', 'deadlines'],
  flowRenew: ['holders', 'waiters', 'deadlines'],
  flowRate: ['starts'],
  flowIndexPrune: ['limits', 'keys'],
} as const;
export type ScriptName = keyof typeof SCRIPT_KEYS;
export type ScriptKeys<N extends ScriptName> = Record<(typeof SCRIPT_KEYS)[N][number], string>;

/** What every script's options carry: its workflow and its shard's index prefix. */
interface Common {
  workflowId: string;
  /** `<prefix>:{<tag>}:idx:` of the workflow's shard. */
  idx: string;
  /** The caller's build (module option `buildId`): a workflow-task lease it takes records it. */
  build?: string;
}
/** How a task closes its run (see CloseSpec). */
interface CloseArgs {
  closeStatus?: string;
  closeValue?: string;
  closedChannel: string;
  retentionMs: number;
  nextRunId?: string;
  /** The next run's WorkflowExecutionStarted JSON (continue-as-new). */
  nextStarted?: string;
}

/** A commit of a task that ran a pinned type: pins a run not pinned yet to the caller's build (see includes/build-pin.lua). */
interface PinArg {
  pin?: boolean;
}

/** Eager activities a commit claims (see includes/activity-claims.lua). */
interface ClaimArgs {
  claims?: number[];
  claimOwner?: string;
  claimTtl?: number;
}

/**
 * The options of each script, sent as one JSON argument (ARGV[1], `O` in Lua). The events it
 * records follow as their own arguments (ARGV[2..], each a JSON string), so they are not
 * encoded twice; each script's header says which.
 */
export interface ScriptOptions {
  startWorkflow: Common & {
    runId: string;
    type: string;
    taskQueue: string;
    reuse: string;
    conflict: string;
    currentRunId?: string;
    closedChannel: string;
    cancelChannel: string;
    retentionMs: number;
    parent?: string;
    requestId: string;
    checkAfterMs: number;
    leaseTtl?: number;
    sa?: string;
    /** The run's priority, when not the default (kept in the meta for the jobs of writes from outside). */
    priority?: number;
    /** The run's flow record (JSON): it waits for its concurrency slot. */
    flow?: string;
    /** Debounced: the run takes no task before this many ms from now (see startWorkflow.lua). */
    debounce?: number;
    /** Debounced: the latest start, this many ms after the first. */
    maxWait?: number;
  };
  appendExternal: Common & { runId: string; cancelChannel?: string; requestId: string; expectLen?: number };
  terminate: Common & {
    runId: string;
    status?: 'timed_out';
    closedChannel: string;
    cancelChannel: string;
    retentionMs: number;
    requestId: string;
  };
  appendCompletion: Common & {
    runId: string;
    seq: number;
    inline: boolean;
    ttl: number;
    cacheFence?: number;
    cacheLastId?: string;
    requestId: string;
  };
  completeAndCommit: Common &
    CloseArgs & {
      runId: string;
      seq: number;
      cachedFence: number;
      ttl: number;
      dispatch: boolean;
      keepLease?: boolean;
      requestId: string;
      sa?: string;
    } & ClaimArgs &
    PinArg;
  acquireTask: Common & {
    runId?: string;
    ttl: number;
    cacheFence?: number;
    cacheLastId?: string;
    requestId: string;
    pinnedOnly?: boolean;
  };
  commitTask: Common &
    CloseArgs & {
      fence: number;
      ttl: number;
      release: boolean;
      lastId: string;
      dispatchMark?: 'set' | 'clear';
      clean?: boolean;
      requestId?: string;
      sa?: string;
      runId?: string;
    } & ClaimArgs &
    PinArg;
  failTask: Common & { fence: number; message: string; baseMs: number; maxMs: number; requestId: string };
  rescheduleCheck: Common & {
    runId?: string;
    len?: number;
    fence?: number;
    lease?: string;
    nextAt?: number;
    clearDispatch: boolean;
  };
  childNotified: Common;
  parentHandled: Common;
  sweepClaim: Common & { owner: string; ttl: number; release: boolean };
  scheduleLock: Common & { op: 'take' | 'renew' | 'release'; owner: string; ttl?: number };
  scheduleWrite: Common & { owner: string; writeId: string; state: string; def?: string; keep: number };
  scheduleHolds: Common & ({ op: 'hold'; member: string; ttl: number } | { op: 'due'; limit: number });
  activityClaim: Common & {
    op: 'renew' | 'release' | 'takeOver';
    runId: string;
    seq: number;
    owner?: string;
    ttl?: number;
  };
  resetWorkflow: Common & {
    oldRunId: string;
    newRunId: string;
    expectLen: number;
    done: string[];
    retentionMs: number;
    cancelChannel: string;
    closedChannel: string;
    sa?: string;
    /** The new run's flow record (JSON), for the reset of a closed run: it waits for a slot again. */
    flow?: string;
  };
  updateBuild: Common & { to: string };
  flowGranted: Common & { runId: string };
  flowReleased: Common & { holder: string };
  /** Flow control scripts name no workflow: their keys are one (limit, key)'s (see flow-store.ts). */
  flowAcquire: {
    holder: string;
    limit: number;
    ttl?: number;
    priority: number;
    waiterTtl?: number;
    keyTtl: number;
  };
  flowRelease: { holder: string; limit?: number; keyTtl: number };
  flowRenew: { holder: string; ttl: number; keyTtl: number };
  flowRate: { holder: string; limit: number; period: number };
  flowIndexPrune: { name: string; cutoff: number; drop: [key: string, touchedAt: number][] };
}

type R = typeof Reply;

/**
 * The history a lease comes with (see includes/acquire-lease.lua): kind 0, the entries after the
 * caller's cached cursor; 1, the whole (short) history; 2, the id of the whole history's last
 * entry, for the caller to read with XRANGE.
 */
export type LeaseHistory = [kind: 0 | 1, entries: RawEntry[]] | [kind: 2, lastId: string];
/** A lease taken: its fence and its history. */
export type AcquiredReply = [R['ACQUIRED'], fence: number, ...LeaseHistory];
/** What recording an outcome replies (see appendCompletion.lua). */
export type OutcomeReply =
  [R['NOT_RUNNING']] | [R['OK']] | [R['NEEDS_TASK']] | [R['NEEDS_TASK'], build: string] | AcquiredReply;

/**
 * The reply of each script, as its Lua returns it (its header says the same in words). Every
 * reply is decoded in one place, lua/replies.ts.
 */
export interface ScriptReplies {
  startWorkflow:
    | [R['OK'], runId: string]
    | [R['OK'], runId: string, fence: number, firstId: string]
    | [R['OK'], runId: string, startAt: number]
    | [R['DEBOUNCED'], runId: string, startAt: number, previousStartAt: number, priority: number]
    | [R['EXISTING'], runId: string, wake: 0 | 1]
    | [R['CONFLICT'], runId: string]
    | [R['REUSE_REJECTED'], status: string]
    | [R['RETRY']];
  appendExternal:
    | [R['NOT_RUNNING'], status: string]
    | [R['RETRY']]
    | [R['CHANGED']]
    | [R['OK']]
    | [R['NEEDS_TASK']]
    | [R['NEEDS_TASK'], build: string];
  terminate: [R['OK']] | [R['NOT_RUNNING'], status: string] | [R['RETRY']];
  appendCompletion: OutcomeReply;
  completeAndCommit: [R['COMMITTED'], fence: number, lastId: string] | OutcomeReply;
  acquireTask:
    | [R['NOT_RUNNING'], status: string]
    | [R['BUSY']]
    | [R['NOT_DUE'], inMs: number, priority: number]
    | [R['WRONG_BUILD'], build: string, priority: number, fence: number]
    | AcquiredReply;
  commitTask:
    | [R['LEASE_LOST']]
    | [R['CHANGED'], ...LeaseHistory]
    | [R['OK'], lastId: string]
    | [R['OK'], lastId: string, handoff: string]
    | [R['MORE'], lastId: string, entries: RawEntry[]];
  failTask: [R['OK'], attempt: number, delayMs: number, priority: string | null] | [R['LEASE_LOST']];
  rescheduleCheck: R['OK'] | R['CHANGED'] | R['NOT_RUNNING'];
  childNotified: R['OK'];
  flowGranted: R['OK'] | R['NOT_RUNNING'];
  flowReleased: R['OK'];
  parentHandled: R['OK'];
  sweepClaim: R['OK'] | R['BUSY'];
  scheduleLock: R['OK'] | R['BUSY'];
  scheduleWrite: R['OK'] | R['BUSY'];
  scheduleHolds: R['OK'] | string[];
  activityClaim: [R['OK']] | [R['BUSY'], expiresAt: number] | [R['NOT_RUNNING']];
  resetWorkflow: [R['OK'], closedRunning: 0 | 1] | [R['RETRY']];
  updateBuild:
    | [R['NOT_RUNNING'], status: string]
    | [R['CONFLICT']]
    | [R['OK'], from: string, wake: 0 | 1, runId: string, taskQueue: string, priority: number];
  flowAcquire: [R['OK']] | [R['BUSY'], ahead: number];
  flowRelease: [R['OK'], released: 0 | 1, wake: string[]];
  flowRenew: [R['OK']] | [R['NOT_RUNNING']];
  flowRate: [R['OK']] | [R['BUSY'], retryAfterMs: number];
  flowIndexPrune: R['OK'];
}

/** A Lua table constructor: `{a = 'x', b = 2}`. */
function luaTable(values: Record<string, string | number>): string {
  const fields = Object.entries(values).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${v}'`}`);
  return `{${fields.join(', ')}}`;
}

/**
 * The prelude of every script: the reply codes (`R`), the meta hash's field names (`M`, see
 * meta-schema.ts), the names of the shard's indexes (`I`, see keys.ts), and the options (`O`).
 */
const PRELUDE =
  `local R = ${luaTable(Reply)}\n` +
  `local M = ${luaTable(META_FIELDS)}\n` +
  `local I = ${luaTable(INDEX_NAMES)}\n` +
  'local O = cjson.decode(ARGV[1])\n';

/**
 * Script source with each `--- @include "name"` line replaced by `includes/name.lua`, after the
 * prelude. Includes name what they use the same way; each is inlined once, where it is first
 * named, so a function is always defined before the code that calls it.
 */
export function scriptSource(name: ScriptName): string {
  const included = new Set<string>();
  const expand = (source: string): string =>
    source.replace(INCLUDE, (_, include: string) => {
      if (included.has(include)) return '';
      included.add(include);
      return expand(readFileSync(join(LUA_DIR, 'includes', `${include}.lua`), 'utf8'));
    });
  return PRELUDE + expand(readFileSync(join(LUA_DIR, `${name}.lua`), 'utf8'));
}
