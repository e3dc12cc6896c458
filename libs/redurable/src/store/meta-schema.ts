import type { RecordedWorkflowFlow } from '../core/flow/workflow-flow.js';
import type { RecordedSearchAttributes } from '../core/search/search-attributes.js';
import type { ParentInfo, WorkflowMeta, WorkflowStatus } from '../core/workflow-state.js';

/**
 * The meta hash of a workflow (`KeyNames.meta`), declared once: each field's name here, its
 * name in Redis and how its string reads back. TypeScript reads and writes the hash through
 * `META_FIELDS` and `toMeta`; every script gets the same names as `M` (`M.historyLength` is
 * 'len', see lua/scripts.ts), so no field name is spelled anywhere else. The names in Redis
 * must never change: data written by earlier versions is read with them.
 */

/** One field: its name in the hash, and its value as read (the field may be absent). */
interface FieldSpec<T> {
  field: string;
  read(value: string | undefined): T;
}

const spec = <T>(field: string, read: (value: string | undefined) => T): FieldSpec<T> => ({ field, read });
/** Text as written (a field every meta has is typed as present). */
const text = <T extends string = string>(field: string) => spec(field, (v) => v as T);
/** Text that may be absent. */
const optionalText = (field: string) => spec(field, (v) => v);
/** Text where '' means none (a released lease). */
const textOrEmpty = (field: string) => spec(field, (v) => v || undefined);
/** A number every meta has (ms). */
const number = (field: string) => spec(field, (v) => Number(v));
/** A counter or token, 0 when absent. */
const count = (field: string) => spec(field, (v) => Number(v ?? 0));
/** A number that may be absent or '' (set only in some states). */
const optionalNumber = (field: string) => spec(field, (v) => (v === undefined || v === '' ? undefined : Number(v)));
/** '1' for true; anything else (absent, '0') false. */
const flag = (field: string) => spec(field, (v) => v === '1');
/** JSON that TypeScript encoded (Lua only copies it: cjson would round numbers it re-encodes). */
const json = <T>(field: string) => spec(field, (v) => (v ? (JSON.parse(v) as T) : undefined));

type MetaProperty = Exclude<keyof WorkflowMeta, 'workflowId'>;

/** The fields WorkflowMeta is read from, one per property, in its order. */
const READ: { [K in MetaProperty]-?: FieldSpec<WorkflowMeta[K]> } = {
  type: text('type'),
  status: text<WorkflowStatus>('status'),
  runId: text('runId'),
  taskQueue: text('taskQueue'),
  /** When the current run started (server time, ms); the listing indexes' score. */
  startedAt: number('startedAt'),
  closedAt: optionalNumber('closedAt'),
  /** How many events the current run's history holds: the next event's position is len + 1. */
  historyLength: count('len'),
  closeValue: optionalText('closeValue'),
  taskFailure: optionalText('taskFailure'),
  taskAttempt: optionalNumber('taskAttempt'),
  retryAt: optionalNumber('retryAt'),
  /** Events arrived that no task has taken yet. */
  dirty: flag('dirty'),
  dispatchAt: optionalNumber('dispatchAt'),
  parent: json<ParentInfo>('parent'),
  /** The fence of the task holding the lease ('' when free). */
  lease: textOrEmpty('lease'),
  leaseExp: count('leaseExp'),
  fence: count('fence'),
  searchAttributes: json<RecordedSearchAttributes>('sa'),
  /** The run's priority (absent: the default), as its started event records it. */
  priority: optionalNumber('prio'),
  flow: json<RecordedWorkflowFlow>('flow'),
  /** Set ('1') while the run waits for its concurrency slot: to writers, as if a task held the lease. */
  flowWait: flag('flowWait'),
  /** The build of the worker that took the last workflow-task lease (module option `buildId`). */
  taskBuild: optionalText('build'),
  /** A pinned run's build: only its workers take the run's tasks (see lua/includes/build-pin.lua). */
  pinnedBuild: optionalText('pin'),
  /** A debounced run's start time (ms), until its first task begins: to writers, as if a task held the lease till then. */
  startAt: optionalNumber('startAt'),
};

/** Fields only the scripts read; declared here so that their names, too, are spelled once. */
const SCRIPT_ONLY = {
  /** How long after a change the recovery sweep looks at the workflow, ms (the lease ttl at start). */
  checkAfter: count('checkAfter'),
  /** Set ('1') once the run started a child: its close queues the parent-close policy. */
  hasChildren: flag('hasChildren'),
  /** The request id of the lease holder's last write, and its reply as JSON (see lua/includes/lease-memo.lua). */
  memoReq: optionalText('memoReq'),
  memoReply: json<unknown[]>('memoReply'),
  /**
   * Prefix of the claims of eager activities: field `c:<seq>` holds
   * `runId|owner|expiresAt|since|state` (see lua/includes/activity-claims.lua); a claim of
   * another run is stale and ignored.
   */
  claim: optionalText('c:'),
  /**
   * `<runId>/<stream id>`: the last event a committed workflow task had run the code on. A worker
   * replaying the run prints no `workflowLogger()` line for the events up to it (see ReplayLog).
   */
  seen: optionalText('seen'),
  /** A debounced run's latest start time (ms): its first start plus `maxWait`. */
  startBy: optionalNumber('startBy'),
};

/** Every field of the meta hash: its name in Redis, by the name code uses. */
export const META_FIELDS = Object.fromEntries(
  Object.entries({ ...READ, ...SCRIPT_ONLY }).map(([name, s]) => [name, s.field]),
) as Record<MetaProperty | keyof typeof SCRIPT_ONLY, string>;

/** A meta hash as read (HGETALL) into a WorkflowMeta. Throws when a JSON field is damaged. */
export function toMeta(workflowId: string, hash: Record<string, string>): WorkflowMeta {
  const meta: Partial<Record<MetaProperty, unknown>> = {};
  for (const name of Object.keys(READ) as MetaProperty[]) meta[name] = READ[name].read(hash[READ[name].field]);
  return { workflowId, ...meta } as WorkflowMeta;
}
