import { deserializeFailure } from '../core/errors/failure-codec.js';
import { WorkflowNotFoundError, WorkflowRunChangedError } from '../core/errors/library.errors.js';
import {
  UpdateContentionError,
  UpdateNotFoundError,
  UpdateUnavailableError,
  WorkflowUpdateFailedError,
} from '../core/errors/update.errors.js';
import type { WorkflowActivation } from '../workflow/activation.js';
import { WorkflowNotRunningError } from '../core/errors/workflow-control.js';
import { isCloseEvent, type HistoryEvent } from '../core/events.js';
import type { StoredEvent } from '../core/events.js';
import type { WorkflowMeta } from '../core/workflow-state.js';
import { RUN_CHANGE_ATTEMPTS } from '../core/run-change.js';
import type { ClientParts } from './client-parts.js';

/** The parts updates use. */
export type UpdateParts = Pick<ClientParts, 'histories' | 'link' | 'converter' | 'writes' | 'watcher' | 'settings'>;
import { handlerNamed, type WorkflowDefinition } from '../core/definitions/registry.js';
import { definitionFor, pinnedElsewhere, replayRun } from './replay-run.js';
import { withDeterminism } from '../workflow/determinism.js';

/** How many continue-as-new links an update handle follows, each way, looking for its update. */
const MAX_RUN_HOPS = 100;

/** How long an update keeps validating again while the history grows under it. */
const CONTENTION_MS = 10_000;

/** A run's history as this process has replayed it for validating updates. */
interface View {
  runId: string;
  entries: StoredEvent[];
  activation: WorkflowActivation;
}

/**
 * Validates and records an update (`WorkflowUpdateAccepted`) in the workflow's current run;
 * returns the run it was recorded in, or `{ remote }` (the meta read, nothing written) when
 * `definitionOf` has no class for the workflow's type: a worker must validate it then. The validator runs here, on the state rebuilt from the
 * history, and the record is made only if the history still has the length the validator saw
 * (otherwise the new events are replayed and it is validated again, with a short backoff). An
 * update id the run has already accepted is not recorded twice: the call returns that run. When
 * the replayed code has already ended the run, the update is not recorded there: it waits for
 * the next run of a continue-as-new, or is refused (WorkflowNotRunningError).
 */
export function acceptUpdate(
  ctx: UpdateParts,
  workflowId: string,
  name: string,
  args: unknown[],
  updateId: string,
  definitionOf: (type: string) => WorkflowDefinition | undefined,
): Promise<string | { remote: WorkflowMeta }> {
  // The validator runs workflow code on a replay in this process.
  return withDeterminism(() => validateAndAccept(ctx, workflowId, name, args, updateId, definitionOf));
}

async function validateAndAccept(
  ctx: UpdateParts,
  workflowId: string,
  name: string,
  args: unknown[],
  updateId: string,
  definitionOf: (type: string) => WorkflowDefinition | undefined,
): Promise<string | { remote: WorkflowMeta }> {
  const input = ctx.converter.encodeAll(args, `update '${name}' of workflow '${workflowId}'`);
  const call = <R>(fn: () => Promise<R>) => ctx.link.call(`update '${name}' of workflow '${workflowId}'`, fn);
  const began = Date.now();
  let view: View | undefined;
  let runChanges = 0;
  for (let round = 0; ; round++) {
    const meta = await call(() => ctx.histories.getMeta(workflowId));
    if (!meta) throw new WorkflowNotFoundError(workflowId);
    if (meta.status !== 'running') throw new WorkflowNotRunningError(workflowId, meta.status, `update '${name}' of`);
    // A run pinned to another build is validated by a worker of that build (its code may differ).
    const found = pinnedElsewhere(meta, ctx.settings.buildId) ? undefined : definitionOf(meta.type);
    if (!found && !view) return { remote: meta };
    const definition = definitionFor(workflowId, meta.type, `update '${name}' of`, found, UpdateUnavailableError);
    const updateName = handlerNamed(definition.updates, name) ?? name;
    if (view?.runId !== meta.runId) {
      const entries = await call(() => ctx.histories.readEntries(workflowId, meta.runId));
      view = { runId: meta.runId, entries, activation: await replayRun(ctx, definition, entries) };
    } else {
      const current = view;
      const more = await call(() =>
        ctx.histories.readEntriesAfter(workflowId, current.runId, current.entries.at(-1)!.streamId),
      );
      current.entries.push(...more);
      await current.activation.activate(more);
    }
    if (view.entries.some((e) => e.event.type === 'WorkflowUpdateAccepted' && e.event.updateId === updateId))
      return view.runId;
    const closing = view.activation.closingState;
    if (closing && closing.status !== 'continued')
      throw new WorkflowNotRunningError(workflowId, 'closing', `update '${name}' of`);
    if (!closing) {
      view.activation.validateUpdate(updateName, args); // throws UnknownUpdateError or WorkflowUpdateRejectedError: nothing written
      const { runId } = view;
      const target = { workflowId, runId, taskQueue: meta.taskQueue };
      const expectLen = view.entries.at(-1)!.event.id;
      const res = await call(() =>
        ctx.writes.recordAndWake(target, `update-${updateId}`, 'external.after-append', () =>
          ctx.histories.appendExternal(
            workflowId,
            runId,
            { type: 'WorkflowUpdateAccepted', updateId, updateName, input },
            { requestId: `update:${runId}:${updateId}`, expectLen },
          ),
        ),
      );
      if (res.kind === 'not-running') throw new WorkflowNotRunningError(workflowId, res.status, `update '${name}' of`);
      if (res.kind === 'recorded' || res.kind === 'needs-task') return runId;
      if (res.kind === 'retry' && ++runChanges >= RUN_CHANGE_ATTEMPTS)
        throw new WorkflowRunChangedError(workflowId, `update '${name}' of`, RUN_CHANGE_ATTEMPTS);
    }
    // The history grew (or the run is continuing as new): look again after a short, jittered wait.
    if (Date.now() - began > CONTENTION_MS) throw new UpdateContentionError(workflowId, name, Date.now() - began);
    await new Promise((r) => setTimeout(r, Math.min(200, 5 * 2 ** Math.min(round, 6)) * (0.5 + Math.random())));
  }
}

/**
 * An accepted update: `result()` waits for what its handler returned, from this process or any
 * other (`handle.getUpdateHandle(updateId)`).
 */
export class WorkflowUpdateHandle<T = unknown> {
  /** @internal */
  constructor(
    private readonly ctx: UpdateParts,
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
    const call = <R>(fn: () => Promise<R>) =>
      ctx.link.call(`wait for update '${updateId}' of workflow '${workflowId}'`, fn);
    let wake!: () => void;
    let woken = new Promise<void>((r) => (wake = r));
    const stop = await call(() => ctx.watcher.watch(workflowId, () => wake()));
    try {
      const start = this.runId ?? (await call(() => ctx.histories.getMeta(workflowId)))?.runId;
      if (!start) throw new WorkflowNotFoundError(workflowId);
      const found = await this.runWithUpdate(start, call);
      if (!found) throw new UpdateNotFoundError(workflowId, updateId);
      const { runId } = found;
      let cursor = found.entries.at(-1)?.streamId ?? '-';
      for (
        let entries = found.entries;
        ;
        entries = await call(() => ctx.histories.readEntriesAfter(workflowId, runId, cursor))
      ) {
        for (const { streamId, event } of entries) {
          cursor = streamId;
          if (event.type === 'WorkflowUpdateCompleted' && event.updateId === updateId) return this.settle(runId, event);
          if (isCloseEvent(event)) {
            throw new WorkflowUpdateFailedError(
              `Update '${updateId}' of workflow '${workflowId}' (run ${runId}) did not complete: the run closed first (${event.type}); ` +
                'a workflow should wait for its update handlers before it returns (await condition(allHandlersFinished))',
              workflowId,
              runId,
              updateId,
            );
          }
        }
        await woken;
        woken = new Promise<void>((r) => (wake = r));
      }
    } finally {
      stop();
    }
  }

  /**
   * The run that accepted the update: `start`, else a later run it continued as (an update sent
   * to a handle of an earlier run goes to the current one), else an earlier run `start`
   * continues (an update handle made from a newer handle). Undefined when none did.
   */
  private async runWithUpdate(
    start: string,
    call: <R>(fn: () => Promise<R>) => Promise<R>,
  ): Promise<{ runId: string; entries: StoredEvent[] } | undefined> {
    const { ctx, workflowId, updateId } = this;
    const accepted = (entries: StoredEvent[]) =>
      entries.some((e) => e.event.type === 'WorkflowUpdateAccepted' && e.event.updateId === updateId);
    const first = await call(() => ctx.histories.readEntries(workflowId, start));
    if (accepted(first)) return { runId: start, entries: first };
    for (let entries = first, hops = 0; hops < MAX_RUN_HOPS; hops++) {
      const last = entries.at(-1)?.event;
      if (last?.type !== 'WorkflowExecutionContinuedAsNew') break;
      const next = last.newRunId;
      entries = await call(() => ctx.histories.readEntries(workflowId, next));
      if (accepted(entries)) return { runId: next, entries };
    }
    for (let entries = first, hops = 0; hops < MAX_RUN_HOPS; hops++) {
      const started = entries[0]?.event;
      if (started?.type !== 'WorkflowExecutionStarted' || !started.continuedFromRunId) break;
      const previous = started.continuedFromRunId;
      entries = await call(() => ctx.histories.readEntries(workflowId, previous));
      if (accepted(entries)) return { runId: previous, entries };
    }
    return undefined;
  }

  private settle(runId: string, event: Extract<HistoryEvent, { type: 'WorkflowUpdateCompleted' }>): T {
    if (event.failure) {
      throw new WorkflowUpdateFailedError(
        `Update '${this.updateId}' of workflow '${this.workflowId}' (run ${runId}) failed: ${event.failure.message}`,
        this.workflowId,
        runId,
        this.updateId,
        deserializeFailure(event.failure),
      );
    }
    return this.ctx.converter.decode<T>(
      event.result ?? '',
      `result of update '${this.updateId}' of workflow '${this.workflowId}'`,
    );
  }
}
