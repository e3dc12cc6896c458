/**
 * Every Redis key the library writes is named here. All keys of one workflow share the hash
 * tag `{wf:<id>}`, so every script touching them is legal on Redis Cluster.
 */
export class KeyNames {
  constructor(readonly prefix: string) {}

  private tag(workflowId: string): string {
    return `${this.prefix}:{wf:${workflowId}}`;
  }

  /** Hash: type, status, runId, taskQueue, timestamps, lease and fencing counters of the current run. */
  meta(workflowId: string): string {
    return `${this.tag(workflowId)}:meta`;
  }

  /** Stream: the run's event history. */
  history(workflowId: string, runId: string): string {
    return `${this.tag(workflowId)}:${runId}:history`;
  }

  /** Set: seqs whose completion is recorded (first result wins). */
  done(workflowId: string, runId: string): string {
    return `${this.tag(workflowId)}:${runId}:done`;
  }

  /**
   * Prefix of the listing indexes, sorted sets of workflow ids scored by start time:
   * `<prefix>:idx:all`, `:idx:type:<type>`, `:idx:status:<status>`. The scripts that change a
   * workflow's status keep them current (so, unlike the per-workflow keys, they are not Cluster-safe).
   */
  indexPrefix(): string {
    return `${this.prefix}:idx:`;
  }

  /** Workflow ids in one status (the recovery sweep scans `running`). */
  statusIndex(status: string): string {
    return `${this.indexPrefix()}status:${status}`;
  }

  /**
   * Running workflows of a task queue scored by when the recovery sweep should look at them next
   * (see lua/includes/due-check.lua, which derives the same name from the meta key).
   */
  dueIndex(taskQueue: string): string {
    return `${this.indexPrefix()}due:${taskQueue}`;
  }

  typeIndex(type: string): string {
    return `${this.indexPrefix()}type:${type}`;
  }

  /** Closed children whose outcome has not yet been recorded in their parent's history. */
  notifyIndex(): string {
    return `${this.indexPrefix()}notify`;
  }

  /** Hash: child workflow id → what its parent must be told (parent, status, value), written by the close script. */
  notifyDataIndex(): string {
    return `${this.indexPrefix()}notify-data`;
  }

  /** Hash: parent workflow id → the closed run whose children need the parent-close policy. */
  closedParentsDataIndex(): string {
    return `${this.indexPrefix()}closed-parents-data`;
  }

  /** Closed parents whose children have not yet had the parent-close policy applied. */
  closedParentsIndex(): string {
    return `${this.indexPrefix()}closed-parents`;
  }

  allIndex(): string {
    return `${this.indexPrefix()}all`;
  }

  /** Pub/sub channel telling workers to abort a workflow's running activities (cancel, terminate). */
  cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }

  /**
   * String: the version of the key layout the data under this prefix uses (see
   * KEY_LAYOUT_VERSION); a process using another layout refuses to start.
   */
  layout(): string {
    return `${this.prefix}:layout`;
  }

  /** Set of workflow type names registered by workers (lets a client without the class validate names). */
  workflowTypes(): string {
    return `${this.prefix}:workflow-types`;
  }

  /** Pub/sub channel announcing closed workflows. */
  closedChannel(): string {
    return `${this.prefix}:closed`;
  }
}

/** The key layout this version reads and writes; bumped by any change older code cannot read. */
export const KEY_LAYOUT_VERSION = 1;

/** BullMQ queue names may not contain ':'. */
export function activityQueueName(taskQueue: string): string {
  return `${taskQueue}-activities`;
}

export function workflowQueueName(taskQueue: string): string {
  return `${taskQueue}-workflows`;
}

/** BullMQ job ids may not contain ':' (encodeURIComponent escapes it); workflow ids may contain anything. */
export function jobIdPart(value: string): string {
  return encodeURIComponent(value);
}
