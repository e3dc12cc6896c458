import { createHash } from 'node:crypto';
import { DEFAULT_SHARDS, shardOf, shardTags } from './shards.js';

/**
 * The names of a shard's indexes, after its index prefix (`<prefix>:{<tag>}:idx:`), spelled
 * once: KeyNames builds them here, and every script gets them as `I` (`O.idx .. I.status ..
 * status`, see lua/scripts.ts), since a script names the indexes whose names depend on what it
 * reads. They must never change: data written by earlier versions is found under them.
 */
export const INDEX_NAMES = {
  /** `status:<status>`: workflow ids in one status, scored by start time. */
  status: 'status:',
  /** `type:<type>`: workflow ids of one type, scored by start time. */
  type: 'type:',
  /** Every workflow id, scored by start time. */
  all: 'all',
  /** `sa:<name>:<value>` (keyword, bool) or `sa:<name>` (number, datetime): see searchIndex. */
  searchAttribute: 'sa:',
  /** `due:<taskQueue>`: see dueIndex. */
  due: 'due:',
  notify: 'notify',
  notifyData: 'notify-data',
  closedParents: 'closed-parents',
  closedParentsData: 'closed-parents-data',
  /** Holders of workflow concurrency slots whose run closed, by close time, until the slot is freed (see flowReleaseIndex). */
  flowRelease: 'flow-release',
  flowReleaseData: 'flow-release-data',
  /** Workflow ids of the runs waiting for a concurrency slot, scored by when they began to wait. */
  flowWaiting: 'flow-waiting',
  /** `sweep-lock:<what>`: see sweepLock. */
  sweepLock: 'sweep-lock:',
} as const;

const I = INDEX_NAMES;

/**
 * Every Redis key the library writes is named here. Workflows are spread over a fixed number
 * of logical shards (recorded under the prefix); each shard has its own hash tag, and a
 * workflow's keys share its shard's tag with the shard's listing and recovery indexes, so every
 * script touching them is atomic and legal on Redis Cluster, and the shards spread over the
 * masters. On a single Redis, one server simply holds every shard.
 *
 * Layout: `<prefix>:{<tag>}:wf:<workflowId>:meta` (and `:requests`, `:request-times`),
 * `<prefix>:{<tag>}:wf:<workflowId>:<runId>:history` (and `:done`), `<prefix>:{<tag>}:idx:…`.
 */
export class KeyNames {
  private tags: readonly string[] = [];
  private count = 0;

  constructor(
    readonly prefix: string,
    shards: number = DEFAULT_SHARDS,
  ) {
    this.useShards(shards);
  }

  /** How many logical shards the prefix has (see `<prefix>:layout`). */
  get shards(): number {
    return this.count;
  }

  /** Switches to the shard count recorded under the prefix (read when the runtime connects, before any other key is used). */
  useShards(shards: number): void {
    if (shards === this.count) return;
    this.tags = shardTags(shards);
    this.count = shards;
    this.recent?.clear();
  }

  /** The shard a workflow's keys live in. */
  shardOf(workflowId: string): number {
    return this.placed(workflowId).shard;
  }

  /** Every shard number, 0 to shards - 1. */
  allShards(): number[] {
    return Array.from({ length: this.shards }, (_, i) => i);
  }

  /** `<prefix>:{<tag>}`: what every key of one shard begins with. */
  shardBase(shard: number): string {
    return `${this.prefix}:{${this.tags[shard]}}`;
  }

  /** Shard and `<prefix>:{<tag>}:wf:<id>` of recent workflow ids: a step names several keys of one workflow. */
  private readonly recent = new Map<string, { shard: number; base: string }>();

  private placed(workflowId: string): { shard: number; base: string } {
    let place = this.recent.get(workflowId);
    if (place === undefined) {
      if (this.recent.size >= 10_000) this.recent.clear();
      const shard = shardOf(workflowId, this.count);
      place = { shard, base: `${this.shardBase(shard)}:wf:${workflowId}` };
      this.recent.set(workflowId, place);
    }
    return place;
  }

  private wf(workflowId: string): string {
    return this.placed(workflowId).base;
  }

  /** Hash: type, status, runId, taskQueue, timestamps, lease and fencing counters of the current run. */
  meta(workflowId: string): string {
    return `${this.wf(workflowId)}:meta`;
  }

  /** Hash: request id → first reply, of writes from outside a task (see lua/includes/requests.lua). */
  requests(workflowId: string): string {
    return `${this.wf(workflowId)}:requests`;
  }

  /** Sorted set: request id → when it was recorded (for trimming the request log). */
  requestTimes(workflowId: string): string {
    return `${this.wf(workflowId)}:request-times`;
  }

  /** Stream: the run's event history. */
  history(workflowId: string, runId: string): string {
    return `${this.wf(workflowId)}:${runId}:history`;
  }

  /** Set: seqs whose completion is recorded (first result wins). */
  done(workflowId: string, runId: string): string {
    return `${this.wf(workflowId)}:${runId}:done`;
  }

  /**
   * Prefix of one shard's listing indexes, sorted sets of workflow ids scored by start time:
   * `idx:all`, `idx:type:<type>`, `idx:status:<status>`. The scripts that change a workflow's
   * status keep them current (the status and type names are only known inside the script).
   */
  indexPrefix(shard: number): string {
    return `${this.shardBase(shard)}:idx:`;
  }

  /** The index prefix of a workflow's shard. */
  indexPrefixOf(workflowId: string): string {
    return this.indexPrefix(this.shardOf(workflowId));
  }

  /** Workflow ids of one shard in one status (the due-index backfill reads `running`). */
  statusIndex(shard: number, status: string): string {
    return `${this.indexPrefix(shard)}${I.status}${status}`;
  }

  typeIndex(shard: number, type: string): string {
    return `${this.indexPrefix(shard)}${I.type}${type}`;
  }

  allIndex(shard: number): string {
    return `${this.indexPrefix(shard)}${I.all}`;
  }

  /**
   * A search attribute's index in one shard (kept by lua/includes/search-index.lua): with a
   * value, the ids whose keyword or bool attribute has it, scored by start time; without, the
   * ids with a number or datetime attribute, scored by its value.
   */
  searchIndex(shard: number, name: string, value?: string): string {
    return `${this.indexPrefix(shard)}${I.searchAttribute}${name}${value === undefined ? '' : `:${value}`}`;
  }

  /**
   * Running workflows of one shard and task queue scored by when the recovery sweep should look
   * at them next (see lua/includes/due-check.lua).
   */
  dueIndex(shard: number, taskQueue: string): string {
    return `${this.indexPrefix(shard)}${I.due}${taskQueue}`;
  }

  /** The due index of a workflow's shard. */
  dueIndexOf(workflowId: string, taskQueue: string): string {
    return this.dueIndex(this.shardOf(workflowId), taskQueue);
  }

  /** Closed children of one shard whose outcome has not yet been recorded in their parent's history. */
  notifyIndex(shard: number): string {
    return `${this.indexPrefix(shard)}${I.notify}`;
  }

  /** Hash: child workflow id → what its parent must be told (parent, status, value), written by the close script. */
  notifyDataIndex(shard: number): string {
    return `${this.indexPrefix(shard)}${I.notifyData}`;
  }

  /** Closed parents of one shard whose children have not yet had the parent-close policy applied. */
  closedParentsIndex(shard: number): string {
    return `${this.indexPrefix(shard)}${I.closedParents}`;
  }

  /** Hash: parent workflow id → the closed run whose children need the parent-close policy. */
  closedParentsDataIndex(shard: number): string {
    return `${this.indexPrefix(shard)}${I.closedParentsData}`;
  }

  /**
   * Sorted set: holders (`wf:<workflowId>|<runId>`) of workflow concurrency slots whose run
   * closed, by close time. The close script adds them (with the run's flow record in
   * flowReleaseDataIndex); whoever closed the run frees the slot and removes them, and the sweep
   * frees those left a while (a crash between the close and the release).
   */
  flowReleaseIndex(shard: number): string {
    return `${this.indexPrefix(shard)}${I.flowRelease}`;
  }

  /** Hash: holder → the closed run's flow record (JSON), see flowReleaseIndex. */
  flowReleaseDataIndex(shard: number): string {
    return `${this.indexPrefix(shard)}${I.flowReleaseData}`;
  }

  /** Sorted set: workflow ids of one shard waiting for a concurrency slot (`list({ waiting: true })`). */
  flowWaitingIndex(shard: number): string {
    return `${this.indexPrefix(shard)}${I.flowWaiting}`;
  }

  /** String: which worker sweeps one shard's due index of a task queue now (several workers split the shards). */
  sweepLock(shard: number, taskQueue: string): string {
    return `${this.indexPrefix(shard)}${I.sweepLock}${taskQueue}`;
  }

  /** Pub/sub channel telling workers to abort a workflow's running activities (cancel, terminate). */
  cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }

  /** Pub/sub channel announcing closed workflows. */
  closedChannel(): string {
    return `${this.prefix}:closed`;
  }

  /**
   * List: queries and updates, from processes without the workflow's class, waiting for a worker
   * serving `taskQueue` (see store/worker-messages.ts). Every task queue's list shares one hash
   * tag, so a worker waits on all of its lists with one blocking command, legal on a Cluster.
   */
  workerMessages(taskQueue: string): string {
    return `${this.prefix}:{worker-messages}:${taskQueue}`;
  }

  /**
   * String: who had message `id` (see store/worker-messages.ts): `taken` by a worker or
   * `withdrawn` by its sender, whichever came first; it expires soon after the sender's deadline.
   */
  workerMessageClaim(id: string): string {
    return `${this.prefix}:worker-message:${id}`;
  }

  /** Pub/sub channel on which workers answer the queries and updates of one process (`token`). */
  workerReplies(token: string): string {
    return `${this.prefix}:worker-replies:${token}`;
  }

  /**
   * String: the key layout of the data under this prefix, `<version>:<shards>` (see
   * KEY_LAYOUT_VERSION); a process using another layout refuses to start.
   */
  layout(): string {
    return `${this.prefix}:layout`;
  }

  /** String: the secret that signs the prefix's task tokens (generated once, unless the module gives one). */
  tokenSecret(): string {
    return `${this.prefix}:token-secret`;
  }

  /** Hash: task queue → its number of partitions (recorded by the first worker serving it). */
  partitions(): string {
    return `${this.prefix}:partitions`;
  }

  /** Hash: workflow type → JSON of the search attributes it declares (registered by workers). */
  searchAttributeDeclarations(): string {
    return `${this.prefix}:search-attributes`;
  }

  /**
   * `<prefix>:{sch:<scheduleId>}`: what every key of one schedule begins with. Each schedule has
   * its own hash tag, so the MULTI that writes its state and its recent actions is Cluster-legal.
   * Schedule ids cannot contain `{`, `}` or `:` (see schedule-definition.ts).
   */
  private schedule(scheduleId: string): string {
    return `${this.prefix}:{sch:${scheduleId}}`;
  }

  /** Hash: a schedule's definition (`def`) and state (`state`), each JSON. */
  scheduleState(scheduleId: string): string {
    return `${this.schedule(scheduleId)}:state`;
  }

  /** List: a schedule's recent actions, newest first, trimmed. */
  scheduleActions(scheduleId: string): string {
    return `${this.schedule(scheduleId)}:actions`;
  }

  /**
   * String: who handles the schedule now (one pass at a time: it reads, then writes its state),
   * with a Redis ttl of `leaseTtl` its holder renews (see lua/scheduleLock.lua).
   */
  scheduleLock(scheduleId: string): string {
    return `${this.schedule(scheduleId)}:lock`;
  }

  /**
   * Sorted set of the processes handling a schedule (its own slot): a member
   * `<scheduleId>:<owner>` per pass waiting for or holding a schedule's lock, scored with the time
   * (Redis' clock) until which its owner renews it. A member left past its score is a pass that
   * stopped without letting go: the schedule sweep wakes its schedule (see lua/scheduleHolds.lua).
   */
  scheduleHolds(): string {
    return `${this.prefix}:schedule-holds`;
  }

  /** Set of the prefix's schedule ids (its own slot; a state without an entry here is not listed). */
  scheduleIndex(): string {
    return `${this.prefix}:schedules`;
  }

  /** Set of workflow type names registered by workers (lets a client without the class validate names). */
  workflowTypes(): string {
    return `${this.prefix}:workflow-types`;
  }

  /** Hash: worker id → its record (build, host, pid, task queues, since), while it may be live. */
  workers(): string {
    return `${this.prefix}:workers`;
  }

  /** Sorted set: worker id → until when it counts as live (its heartbeats move it on). */
  liveWorkers(): string {
    return `${this.prefix}:workers-live`;
  }

  /** Hash: build id → when a worker of it was first seen (ms). */
  builds(): string {
    return `${this.prefix}:builds`;
  }

  /** Hash: workflow type → the task queue its workers registered it on (a start by type name runs there). */
  workflowTaskQueues(): string {
    return `${this.prefix}:workflow-task-queues`;
  }

  /** Hash: workflow type → its concurrency limit as its workers registered it (JSON RegisteredLimit). */
  workflowLimits(): string {
    return `${this.prefix}:workflow-limits`;
  }

  /**
   * `<prefix>:flow:{<name>:<key>}`: what every key of one flow limit's key begins with (issue
   * 24). Each (limit, key) has its own hash tag, so its script is Cluster-legal and busy keys
   * spread over the masters. A name or key that is long, holds a brace, or begins with `#`
   * appears as `#` and a hash of it (the raw key is recorded with the call, for display).
   */
  private flow(name: string, key: string): string {
    return `${this.prefix}:flow:{${flowPart(name)}:${flowPart(key)}}`;
  }

  /** Sorted set: holders of a concurrency limit's slots for one key → when each slot expires (see lua/includes/flow-slots.lua). */
  flowHolders(name: string, key: string): string {
    return `${this.flow(name, key)}:holders`;
  }

  /** Sorted set: holders waiting for a slot → priority and arrival. */
  flowWaiters(name: string, key: string): string {
    return `${this.flow(name, key)}:waiters`;
  }

  /** Sorted set: waiters that ask again (a delayed job) → when one that has not is dropped. */
  flowWaiterDeadlines(name: string, key: string): string {
    return `${this.flow(name, key)}:waiter-deadlines`;
  }

  /**
   * Sorted set: the names of the concurrency limits in use → when a process last wrote one of
   * their keys down (see store/flow-index.ts). Shares its hash tag with flowIndexKeys.
   */
  flowIndexLimits(): string {
    return `${this.prefix}:{flow-index}:limits`;
  }

  /** Sorted set: the keys of one concurrency limit in use (raw) → when a process last wrote it down (see store/flow-index.ts). */
  flowIndexKeys(name: string): string {
    return `${this.prefix}:{flow-index}:keys:${flowPart(name)}`;
  }

  /** Sorted set: a rate limit's starts in its last period, for one key (see lua/flowRate.lua). */
  flowStarts(name: string, key: string): string {
    return `${this.flow(name, key)}:starts`;
  }
}

/** A flow limit's name or key as it appears in a key name: itself when short and plain, else `#` and a hash of it. */
function flowPart(value: string): string {
  if (value.length <= 64 && !/[{}]/.test(value) && !value.startsWith('#')) return value;
  return `#${createHash('sha256').update(value).digest('base64url').slice(0, 22)}`;
}

/**
 * The key layout this version reads and writes; bumped by any change older code cannot read.
 * 1: one hash tag per workflow, global indexes. 2: logical shards, BullMQ queues hash-tagged.
 */
export const KEY_LAYOUT_VERSION = 2;

/**
 * BullMQ queue names (which may not contain ':'). Each queue's name is a hash tag, so on a
 * Cluster the queues of different task queues and partitions land on different masters (all
 * keys of one queue stay in one slot, as BullMQ's scripts need); partition 0 has no suffix.
 */
export function activityQueueName(taskQueue: string, partition = 0): string {
  return `{${taskQueue}-activities${partition ? `#${partition}` : ''}}`;
}

export function workflowQueueName(taskQueue: string, partition = 0): string {
  return `{${taskQueue}-workflows${partition ? `#${partition}` : ''}}`;
}

/**
 * The workflow queue of one build on a partition of a task queue: the tasks of runs pinned to
 * that build (`@Workflow({ versioning: 'pinned' })`), which only its workers take (build ids
 * cannot hold '@').
 */
export function buildQueueName(taskQueue: string, build: string, partition = 0): string {
  return `{${taskQueue}-workflows${partition ? `#${partition}` : ''}@${build}}`;
}

/** The BullMQ queue whose job schedulers wake the schedules (one per prefix; BullMQ's keys carry the prefix). */
export function scheduleQueueName(): string {
  return '{schedules}';
}

/** BullMQ job ids may not contain ':' (encodeURIComponent escapes it); workflow ids may contain anything. */
export function jobIdPart(value: string): string {
  return encodeURIComponent(value);
}
