import { LeaseLostError } from '../../core/errors/library.errors.js';
import type {
  AcquireResult,
  CompletionResult,
  ExternalResult,
  FailedTask,
  FlowAcquireResult,
  FlowRateResult,
  FlowReleaseResult,
  BuildMoveResult,
  ResetResult,
  StartResult,
} from '../../core/ports/index.js';
import type { RawEntry } from '../entries.js';
import { Reply, type AcquiredReply, type OutcomeReply, type ScriptName, type ScriptReplies } from './scripts.js';

/**
 * Every script's reply decoded, in one place: each decoder turns the array its Lua returns (see
 * ScriptReplies) into a typed value, and `replyError` turns the codes that mean the call failed
 * into errors. The histories a lease comes with stay raw here: reading them may take another
 * command (a long history is read with XRANGE), which the history store does.
 */

/** The history of a lease: its entries (`full` when they are the whole history), or the id of the whole history's last entry. */
export type LeaseHistoryReply = { full: boolean; entries: RawEntry[] } | { full: true; upTo: string };

/** A lease a script took: its fence and its history. */
export interface LeaseReply {
  fence: number;
  history: LeaseHistoryReply;
}

/** A result whose `acquired` lease is still as the script returned it. */
type WithLeaseReply<T> = T extends { kind: 'acquired' } ? { kind: 'acquired'; lease: LeaseReply } : T;

/** What recording an outcome did (see CompletionResult). */
export type OutcomeReplyResult = WithLeaseReply<CompletionResult>;

/** Each script's reply, decoded. */
export interface ScriptResults {
  /** `lease`: an eager start's lease, with the stream id of the run's first event. */
  startWorkflow:
    | Exclude<StartResult, { kind: 'started' }>
    | { kind: 'started'; runId: string; lease?: { fence: number; firstId: string }; startAt?: number };
  appendExternal: ExternalResult;
  terminate: Extract<ExternalResult, { kind: 'recorded' | 'not-running' | 'retry' }>;
  appendCompletion: OutcomeReplyResult;
  completeAndCommit: { kind: 'committed'; fence: number; lastId: string } | OutcomeReplyResult;
  acquireTask: WithLeaseReply<AcquireResult>;
  /** `changed`: the whole history, under the caller's (renewed) lease. */
  commitTask:
    | { kind: 'done'; lastId: string; handoff?: string }
    | { kind: 'more'; lastId: string; entries: RawEntry[] }
    | { kind: 'changed'; history: LeaseHistoryReply };
  /** Undefined when the lease was already lost (the task's failure is then another task's business). */
  failTask: FailedTask | undefined;
  /** False when the workflow changed since the sweep read it (or is no longer running). */
  rescheduleCheck: boolean;
  childNotified: void;
  parentHandled: void;
  /** False when the run is no longer running (or another run is current). */
  flowGranted: boolean;
  flowReleased: void;
  /** False when another owner holds the claim. */
  sweepClaim: boolean;
  /** False when another owner holds the lock (take), or it is not the caller's (renew). */
  scheduleLock: boolean;
  /** False when the lock is not the writer's: nothing was written. */
  scheduleWrite: boolean;
  /** `due`: the members past their score. */
  scheduleHolds: string[];
  /** `done`: renewed, released or taken over; `live`: a takeover found the claim live; `refused`: a renewal was. */
  activityClaim: { kind: 'done' } | { kind: 'live'; expiresAt: number } | { kind: 'refused' };
  resetWorkflow: ResetResult;
  updateBuild: BuildMoveResult;
  flowAcquire: FlowAcquireResult;
  flowRelease: FlowReleaseResult;
  /** False when the holder no longer holds a slot. */
  flowRenew: boolean;
  flowRate: FlowRateResult;
  flowIndexPrune: void;
}

/** The call a reply answers, to name in an error: its workflow, and the run and fence it was made under. */
export interface CallContext {
  workflowId: string;
  runId?: string;
  fence?: number;
}

/**
 * The one place reply codes become errors: LEASE_LOST (the caller's lease moved on: another
 * worker owns the task), and any code the script's decoder does not expect (a library bug, or a
 * stale script loaded under the same name).
 */
export function replyError(script: ScriptName, reply: unknown, call: CallContext): Error {
  if (Array.isArray(reply) && reply[0] === Reply.LEASE_LOST)
    return new LeaseLostError(
      `Workflow '${call.workflowId}' (run ${call.runId}): lease ${call.fence} was lost; another worker owns the workflow task`,
    );
  return new Error(`Unexpected reply from Redurable's ${script} script: ${JSON.stringify(reply)?.slice(0, 200)}`);
}

/** A lease a script took (see AcquiredReply): kind 2 names the last entry, 0 and 1 carry the entries. */
function acquired(reply: AcquiredReply): LeaseReply {
  const history: LeaseHistoryReply =
    reply[2] === 2 ? { full: true, upTo: reply[3] } : { full: reply[2] === 1, entries: reply[3] };
  return { fence: reply[1], history };
}

/** NEEDS_TASK, with the build a pinned run's task goes to. */
function needsTask(reply: [number] | [number, string]): { kind: 'needs-task'; build?: string } {
  return reply.length > 1 ? { kind: 'needs-task', build: reply[1] } : { kind: 'needs-task' };
}

function outcome(script: ScriptName, reply: OutcomeReply, call: CallContext): OutcomeReplyResult {
  switch (reply[0]) {
    case Reply.NOT_RUNNING:
      return { kind: 'ignored' };
    case Reply.OK:
      return { kind: 'recorded' };
    case Reply.NEEDS_TASK:
      return needsTask(reply);
    case Reply.ACQUIRED:
      return { kind: 'acquired', lease: acquired(reply) };
    default:
      throw replyError(script, reply, call);
  }
}

/** OK: done; BUSY: another owner's lock (see scheduleLock.lua, scheduleWrite.lua). */
function lockReply(script: ScriptName, reply: number, call: CallContext): boolean {
  if (reply === Reply.OK) return true;
  if (reply === Reply.BUSY) return false;
  throw replyError(script, reply, call);
}

type Decoder<N extends ScriptName> = (reply: ScriptReplies[N], call: CallContext) => ScriptResults[N];

/**
 * One decoder per script. Each switches on the reply's code (which narrows the reply to that
 * code's shape) and throws replyError's error for any other code.
 */
const decoders: { [N in ScriptName]: Decoder<N> } = {
  startWorkflow(reply, call) {
    switch (reply[0]) {
      case Reply.OK:
        if (reply.length === 2) return { kind: 'started', runId: reply[1] };
        if (reply.length === 3) return { kind: 'started', runId: reply[1], startAt: reply[2] };
        return { kind: 'started', runId: reply[1], lease: { fence: reply[2], firstId: reply[3] } };
      case Reply.DEBOUNCED:
        return {
          kind: 'debounced',
          runId: reply[1],
          startAt: reply[2],
          previousStartAt: reply[3],
          priority: reply[4] || undefined,
        };
      case Reply.EXISTING:
        return { kind: 'existing', runId: reply[1], wake: reply[2] === 1 };
      case Reply.CONFLICT:
        return { kind: 'running', runId: reply[1] };
      case Reply.REUSE_REJECTED:
        return { kind: 'reuse-rejected', status: reply[1] };
      case Reply.RETRY:
        return { kind: 'retry' };
      default:
        throw replyError('startWorkflow', reply, call);
    }
  },
  appendExternal(reply, call) {
    switch (reply[0]) {
      case Reply.NOT_RUNNING:
        return { kind: 'not-running', status: reply[1] };
      case Reply.OK:
        return { kind: 'recorded' };
      case Reply.NEEDS_TASK:
        return needsTask(reply);
      case Reply.RETRY:
        return { kind: 'retry' };
      case Reply.CHANGED:
        return { kind: 'changed' };
      default:
        throw replyError('appendExternal', reply, call);
    }
  },
  terminate(reply, call) {
    switch (reply[0]) {
      case Reply.NOT_RUNNING:
        return { kind: 'not-running', status: reply[1] };
      case Reply.OK:
        return { kind: 'recorded' };
      case Reply.RETRY:
        return { kind: 'retry' };
      default:
        throw replyError('terminate', reply, call);
    }
  },
  appendCompletion: (reply, call) => outcome('appendCompletion', reply, call),
  completeAndCommit(reply, call) {
    if (reply[0] === Reply.COMMITTED) return { kind: 'committed', fence: reply[1], lastId: reply[2] };
    return outcome('completeAndCommit', reply, call);
  },
  acquireTask(reply, call) {
    switch (reply[0]) {
      case Reply.NOT_RUNNING:
        return { kind: 'closed', status: reply[1] };
      case Reply.BUSY:
        return { kind: 'busy' };
      case Reply.NOT_DUE:
        return { kind: 'not-due', inMs: reply[1], priority: reply[2] || undefined };
      case Reply.WRONG_BUILD:
        return { kind: 'wrong-build', build: reply[1], priority: reply[2] || undefined, fence: reply[3] };
      case Reply.ACQUIRED:
        return { kind: 'acquired', lease: acquired(reply) };
      default:
        throw replyError('acquireTask', reply, call);
    }
  },
  commitTask(reply, call) {
    switch (reply[0]) {
      case Reply.CHANGED:
        return {
          kind: 'changed',
          history: reply[1] === 2 ? { full: true, upTo: reply[2] } : { full: reply[1] === 1, entries: reply[2] },
        };
      case Reply.MORE:
        return { kind: 'more', lastId: reply[1], entries: reply[2] };
      case Reply.OK:
        return reply.length > 2
          ? { kind: 'done', lastId: reply[1], handoff: reply[2] }
          : { kind: 'done', lastId: reply[1] };
      default:
        throw replyError('commitTask', reply, call); // LEASE_LOST among them
    }
  },
  failTask(reply, call) {
    switch (reply[0]) {
      case Reply.OK:
        return { attempt: reply[1], delayMs: reply[2], ...(reply[3] ? { priority: Number(reply[3]) } : {}) };
      case Reply.LEASE_LOST:
        return undefined; // not an error here: the task's failure is the new lease holder's business
      default:
        throw replyError('failTask', reply, call);
    }
  },
  rescheduleCheck(reply, call) {
    switch (reply) {
      case Reply.OK:
        return true;
      case Reply.CHANGED:
      case Reply.NOT_RUNNING:
        return false;
      default:
        throw replyError('rescheduleCheck', reply, call);
    }
  },
  childNotified: () => undefined,
  flowGranted(reply, call) {
    switch (reply) {
      case Reply.OK:
        return true;
      case Reply.NOT_RUNNING:
        return false;
      default:
        throw replyError('flowGranted', reply, call);
    }
  },
  updateBuild(reply, call) {
    switch (reply[0]) {
      case Reply.NOT_RUNNING:
        return { kind: 'not-running', status: reply[1] };
      case Reply.CONFLICT:
        return { kind: 'not-pinned' };
      case Reply.OK:
        return {
          kind: 'moved',
          from: reply[1],
          wake: reply[2] === 1,
          runId: reply[3],
          taskQueue: reply[4],
          priority: reply[5] || undefined,
        };
      default:
        throw replyError('updateBuild', reply, call);
    }
  },
  flowReleased: () => undefined,
  flowIndexPrune: () => undefined,
  parentHandled: () => undefined,
  sweepClaim(reply, call) {
    switch (reply) {
      case Reply.OK:
        return true;
      case Reply.BUSY:
        return false;
      default:
        throw replyError('sweepClaim', reply, call);
    }
  },
  scheduleLock(reply, call) {
    return lockReply('scheduleLock', reply, call);
  },
  scheduleWrite(reply, call) {
    return lockReply('scheduleWrite', reply, call);
  },
  scheduleHolds(reply, call) {
    if (Array.isArray(reply)) return reply;
    if (reply === Reply.OK) return [];
    throw replyError('scheduleHolds', reply, call);
  },
  activityClaim(reply, call) {
    switch (reply[0]) {
      case Reply.OK:
        return { kind: 'done' };
      case Reply.BUSY:
        return { kind: 'live', expiresAt: reply[1] };
      case Reply.NOT_RUNNING:
        return { kind: 'refused' };
      default:
        throw replyError('activityClaim', reply, call);
    }
  },
  resetWorkflow(reply, call) {
    switch (reply[0]) {
      case Reply.OK:
        return { kind: 'reset', closedRunning: reply[1] === 1 };
      case Reply.RETRY:
        return { kind: 'retry' };
      default:
        throw replyError('resetWorkflow', reply, call);
    }
  },
  flowAcquire(reply, call) {
    switch (reply[0]) {
      case Reply.OK:
        return { granted: true };
      case Reply.BUSY:
        return { granted: false, ahead: reply[1] };
      default:
        throw replyError('flowAcquire', reply, call);
    }
  },
  flowRelease(reply, call) {
    if (reply[0] !== Reply.OK) throw replyError('flowRelease', reply, call);
    return { released: reply[1] === 1, wake: reply[2] };
  },
  flowRenew(reply, call) {
    switch (reply[0]) {
      case Reply.OK:
        return true;
      case Reply.NOT_RUNNING:
        return false;
      default:
        throw replyError('flowRenew', reply, call);
    }
  },
  flowRate(reply, call) {
    switch (reply[0]) {
      case Reply.OK:
        return { allowed: true };
      case Reply.BUSY:
        return { allowed: false, retryAfterMs: reply[1] };
      default:
        throw replyError('flowRate', reply, call);
    }
  },
};

/** Decodes a script's reply (see ScriptReplies for what each returns); throws replyError's errors. */
export function decodeReply<N extends ScriptName>(
  name: N,
  reply: ScriptReplies[N],
  call: CallContext,
): ScriptResults[N] {
  const decode: Decoder<N> = decoders[name];
  return decode(reply, call);
}
