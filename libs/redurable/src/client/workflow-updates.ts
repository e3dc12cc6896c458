import { deserializeFailure } from '../errors/failure-codec.js';
import { WorkflowNotFoundError, WorkflowRunChangedError } from '../errors/library.errors.js';
import { UpdateNotFoundError, UpdateUnavailableError, WorkflowUpdateFailedError } from '../errors/update.errors.js';
import { WorkflowNotRunningError } from '../errors/workflow-control.js';
import { isCloseEvent, type HistoryEvent } from '../history/events.js';
import type { StoredEvent } from '../history/redis-history-store.js';
import { RUN_CHANGE_ATTEMPTS } from '../worker/workflow-writes.js';
import type { ClientContext } from './client-context.js';
import type { WorkflowDefinition } from '../discovery/registry.js';
import { definitionFor, replayRun } from './replay-run.js';

/** The name an update handler is registered under, looked up by its method name too (a typed handle's names are method names). */
function handlerNamed(handlers: Record<string, { method: string }>, name: string): string | undefined {
  if (name in handlers) return name;
  return Object.keys(handlers).find((key) => handlers[key].method === name);
}

/**
 * Validates and records an update (`WorkflowUpdateAccepted`) in the workflow's current run;
 * returns the run it was recorded in. The validator runs here, on the state rebuilt from the
 * history, and the record is made only if the history still has the length the validator saw
 * (otherwise it is validated again). An update id already accepted by the run is not recorded
 * twice: the call returns that run.
 */
export async function acceptUpdate(
  ctx: ClientContext, workflowId: string, name: string, args: unknown[], updateId: string, definitionOf: (type: string) => WorkflowDefinition | undefined,
): Promise<string> {
  const input = ctx.converter.encodeAll(args, `update '${name}' of workflow '${workflowId}'`);
  for (let attempt = 0; attempt < RUN_CHANGE_ATTEMPTS; attempt++) {
    const meta = await ctx.store.getMeta(workflowId);
    if (!meta) throw new WorkflowNotFoundError(workflowId);
    if (meta.status !== 'running') throw new WorkflowNotRunningError(workflowId, meta.status, `update '${name}' of`);
    const definition = definitionFor(workflowId, meta.type, `update '${name}' of`, definitionOf(meta.type), UpdateUnavailableError);
    const updateName = handlerNamed(definition.updates, name) ?? name;
    const entries = await ctx.store.readEntries(workflowId, meta.runId);
    if (entries.some((e) => e.event.type === 'WorkflowUpdateAccepted' && e.event.updateId === updateId)) return meta.runId;
    const activation = await replayRun(ctx, definition, entries);
    activation.validateUpdate(updateName, args); // throws UnknownUpdateError or WorkflowUpdateRejectedError: nothing written
    const target = { workflowId, runId: meta.runId, taskQueue: meta.taskQueue };
    const res = await ctx.writes.recordAndWake(target, `update-${updateId}`, 'external.after-append', () =>
      ctx.store.appendExternal(workflowId, meta.runId, { type: 'WorkflowUpdateAccepted', updateId, updateName, input }, false, `update:${meta.runId}:${updateId}`, entries.at(-1)!.event.id));
    if (res.kind === 'not-running') throw new WorkflowNotRunningError(workflowId, res.status, `update '${name}' of`);
    if (res.kind !== 'retry') return meta.runId;
  }
  throw new WorkflowRunChangedError(workflowId, `update '${name}' of`, RUN_CHANGE_ATTEMPTS);
}

/**
 * An accepted update: `result()` waits for what its handler returned, from this process or any
 * other (`handle.getUpdateHandle(updateId)`).
 */
export class WorkflowUpdateHandle<T = unknown> {
  /** @internal */
  constructor(
    private readonly ctx: ClientContext,
    readonly workflowId: string,
    readonly updateId: string,
    /** The run that accepted the update; undefined reads the workflow's current run. */
    readonly runId?: string,
  ) {}

  /**
   * Resolves with the handler's return value once it is recorded; rejects with a
   * WorkflowUpdateFailedError when the handler threw (`cause`) or the run closed before it
   * finished, and an UpdateNotFoundError when the run has no update with this id.
   */
  async result(): Promise<T> {
    const { ctx, workflowId, updateId } = this;
    const call = <R>(fn: () => Promise<R>) => ctx.link.call(`wait for update '${updateId}' of workflow '${workflowId}'`, fn);
    let wake!: () => void;
    let woken = new Promise<void>((r) => (wake = r));
    const stop = await call(() => ctx.watcher.watch(workflowId, () => wake()));
    try {
      const runId = this.runId ?? (await call(() => ctx.store.getMeta(workflowId)))?.runId;
      if (!runId) throw new WorkflowNotFoundError(workflowId);
      let cursor = '-';
      let accepted = false;
      for (;;) {
        const entries: StoredEvent[] = await call(() => ctx.store.readEntriesAfter(workflowId, runId, cursor));
        for (const { streamId, event } of entries) {
          cursor = streamId;
          if (event.type === 'WorkflowUpdateAccepted' && event.updateId === updateId) accepted = true;
          if (event.type === 'WorkflowUpdateCompleted' && event.updateId === updateId) return this.settle(runId, event);
          if (isCloseEvent(event)) {
            if (!accepted) break;
            throw new WorkflowUpdateFailedError(
              `Update '${updateId}' of workflow '${workflowId}' (run ${runId}) did not complete: the run closed first (${event.type}); ` +
                'a workflow should wait for its update handlers before it returns (await condition(allHandlersFinished))',
              workflowId, runId, updateId,
            );
          }
        }
        // An update is recorded before its handle exists: one the run's history lacks was never accepted.
        if (!accepted) throw new UpdateNotFoundError(workflowId, updateId);
        await woken;
        woken = new Promise<void>((r) => (wake = r));
      }
    } finally {
      stop();
    }
  }

  private settle(runId: string, event: Extract<HistoryEvent, { type: 'WorkflowUpdateCompleted' }>): T {
    if (event.failure) {
      throw new WorkflowUpdateFailedError(
        `Update '${this.updateId}' of workflow '${this.workflowId}' (run ${runId}) failed: ${event.failure.message}`,
        this.workflowId, runId, this.updateId, deserializeFailure(event.failure),
      );
    }
    return this.ctx.converter.decode<T>(event.result ?? '', `result of update '${this.updateId}' of workflow '${this.workflowId}'`);
  }
}
