import { randomUUID } from 'node:crypto';
import type { Type } from '../core/types.js';
import { deserializeFailure } from '../core/errors/failure-codec.js';
import { handlerNamed, workflowDefinitionOf, type WorkflowDefinition } from '../core/definitions/registry.js';
import { InvalidArgumentError } from '../core/errors/library.errors.js';
import type { HandlerArgs, HandlerName, HandlerResult, UntypedName } from './typed-handles.js';
import { acceptUpdate, WorkflowUpdateHandle } from './workflow-updates.js';
import { resetWorkflow, type ResetOptions } from './workflow-reset.js';
import { updateBuild, type BuildUpdate } from './workflow-build.js';
import { WorkflowNotFoundError } from '../core/errors/library.errors.js';
import { UnknownSignalError } from '../core/errors/workflow-control.js';
import { closeFailure } from '../core/close-failure.js';
import { queryWorkflow } from './workflow-queries.js';
import { askWorker } from './worker-messages.js';
import { WorkflowFailedError } from '../core/errors/temporal-failure.js';
import type { HistoryEvent } from '../core/events.js';
import type { WorkflowMeta } from '../core/workflow-state.js';
import type { ClientParts } from './client-parts.js';
import { WorkflowDescriber } from './workflow-describer.js';

/** The parts a handle uses (its updates and resets included). */
export type HandleParts = Pick<
  ClientParts,
  | 'histories'
  | 'link'
  | 'converter'
  | 'registry'
  | 'writes'
  | 'dispatcher'
  | 'queues'
  | 'watcher'
  | 'runs'
  | 'clock'
  | 'settings'
  | 'claims'
  | 'messages'
  | 'flow'
  | 'slots'
  | 'builds'
>;
import { inSpan } from '../observability/tracing.js';
import type { WorkflowDescription } from './workflow-description.js';

/**
 * A reference to one workflow execution: wait for it, message it, inspect it, read its history.
 * `R` is its result; `W`, when the handle was made from the workflow's class (`start`,
 * `getHandle(Class, id)`), its instance type, from which message names and arguments are typed.
 */
export class WorkflowHandle<R = unknown, W = unknown> {
  /** @internal */
  constructor(
    private readonly runtime: HandleParts,
    readonly workflowId: string,
    /** The run this handle follows; undefined follows whatever run is current. */
    readonly runId?: string,
    /** The workflow's class, when the handle was made from it. */
    private readonly workflowClass?: Type<object>,
  ) {}

  /** The workflow's class: the one this handle was made from, else the one registered for the run's type. */
  private definitionOf(type: string): WorkflowDefinition | undefined {
    return (
      this.runtime.registry.workflows.get(type) ??
      (this.workflowClass ? workflowDefinitionOf(this.workflowClass) : undefined)
    );
  }

  private async meta(): Promise<WorkflowMeta> {
    const meta = await this.runtime.histories.getMeta(this.workflowId);
    if (!meta) throw new WorkflowNotFoundError(this.workflowId);
    return meta;
  }

  /**
   * Resolves with the workflow's return value once it completes; rejects with a
   * WorkflowFailedError (whose `cause` is what the workflow threw) when it fails, is
   * cancelled or terminated, or times out (the cause is a TimeoutFailure whose `timeoutType` is
   * `WORKFLOW_EXECUTION` or `WORKFLOW_RUN`). Follows continue-as-new, and a reset of the run it
   * follows (whether that run was running or had closed), to the run that finally ends.
   */
  async result(): Promise<R> {
    let wake!: () => void;
    let woken = new Promise<void>((r) => (wake = r));
    const stop = await this.runtime.link.call(`wait for workflow '${this.workflowId}'`, () =>
      this.runtime.watcher.watch(this.workflowId, () => wake()),
    );
    let runId = this.runId;
    try {
      for (;;) {
        const meta = await this.runtime.link.call(`read workflow '${this.workflowId}'`, () => this.meta());
        if (runId && meta.runId !== runId) {
          // The run this handle follows is over and a newer run holds the id: read how it ended.
          const followed = runId;
          const last = await this.runtime.link.call(`read workflow '${this.workflowId}'`, () =>
            this.runtime.histories.lastEvent(this.workflowId, followed),
          );
          if (last?.type === 'WorkflowExecutionContinuedAsNew' || last?.type === 'WorkflowExecutionReset') {
            runId = last.newRunId;
            continue;
          }
          // A run reset after it closed (re-running what failed) keeps its outcome, and a later
          // run names it in `resetFrom`: the handle follows that run.
          const successor = await this.runtime.link.call(`read workflow '${this.workflowId}'`, () =>
            this.resetSuccessor(followed, meta.runId),
          );
          if (successor) {
            runId = successor;
            continue;
          }
          return this.settleFromEvent(runId, last);
        }
        if (meta.status !== 'running') return this.settle(meta);
        await woken;
        woken = new Promise<void>((r) => (wake = r));
      }
    } finally {
      stop();
    }
  }

  /**
   * The run reset from closed run `runId`, if any: looked for from the current run back, through
   * each run's origin (`resetFrom`, or the run it continues), at most 1,000 runs.
   */
  private async resetSuccessor(runId: string, current: string): Promise<string | undefined> {
    let at: string | undefined = current;
    for (let hops = 0; at !== undefined && hops < 1000; hops++) {
      const started = await this.runtime.histories.startedEvent(this.workflowId, at);
      if (started?.resetFrom?.runId === runId) return at;
      at = started?.resetFrom?.runId ?? started?.continuedFromRunId;
    }
    return undefined;
  }

  private settle(meta: WorkflowMeta): R {
    if (meta.status === 'completed')
      return this.runtime.converter.decode<R>(meta.closeValue ?? '', `result of workflow '${this.workflowId}'`);
    const failure = closeFailure(meta);
    const named = `Workflow '${this.workflowId}' (run ${meta.runId})`;
    // A failure that already says which workflow and run (a timeout's) is not prefixed again.
    throw new WorkflowFailedError(
      failure.message?.startsWith(named)
        ? failure.message
        : `${named} ${meta.status}: ${failure.message ?? 'no reason recorded'}`,
      this.workflowId,
      meta.runId,
      failure.message ? deserializeFailure(failure) : undefined,
    );
  }

  private settleFromEvent(runId: string, last: HistoryEvent | undefined): R {
    switch (last?.type) {
      case 'WorkflowExecutionCompleted':
        return this.settle({ status: 'completed', runId, closeValue: last.result } as WorkflowMeta);
      case 'WorkflowExecutionFailed':
      case 'WorkflowExecutionCanceled':
        return this.settle({
          status: last.type === 'WorkflowExecutionFailed' ? 'failed' : 'canceled',
          runId,
          closeValue: JSON.stringify(last.failure),
        } as WorkflowMeta);
      case 'WorkflowExecutionTerminated':
        return this.settle({ status: 'terminated', runId, closeValue: JSON.stringify(last) } as WorkflowMeta);
      case 'WorkflowExecutionTimedOut':
        return this.settle({ status: 'timed_out', runId, closeValue: JSON.stringify(last) } as WorkflowMeta);
      default:
        throw new WorkflowNotFoundError(this.workflowId);
    }
  }

  /**
   * Sends a signal: recorded in the history atomically, then the workflow wakes and its
   * `@Signal` handler runs. Signals sent while no worker runs are processed when one starts.
   * When this process knows the workflow's class, a name it has no handler for is refused
   * (UnknownSignalError, nothing recorded); a typed handle also accepts the handler's method name.
   */
  async signal<K extends HandlerName<W>>(name: K, ...args: HandlerArgs<W, K>): Promise<void>;
  async signal(name: UntypedName<W>, ...args: unknown[]): Promise<void>;
  async signal(name: string, ...args: unknown[]): Promise<void> {
    const input = this.runtime.converter.encodeAll(args, `signal '${name}' of workflow '${this.workflowId}'`);
    const event = { type: 'SignalReceived' as const, signalName: name, input };
    // A typed handle may name the handler's method; the signal's recorded name is the handler's.
    const check = (meta: WorkflowMeta) => {
      const definition = this.definitionOf(meta.type);
      if (!definition) return;
      event.signalName = handlerNamed(definition.signals, name) ?? name;
      if (!(event.signalName in definition.signals))
        throw new UnknownSignalError(this.workflowId, meta.type, name, Object.keys(definition.signals));
    };
    await this.runtime.link.call(`signal workflow '${this.workflowId}'`, () =>
      inSpan(
        'redurable.signal_workflow',
        { 'workflow.id': this.workflowId, 'signal.name': name },
        undefined,
        () => this.runtime.writes.external(this.workflowId, { action: 'signal', event, check }),
        'client',
      ),
    );
  }

  /**
   * Asks the workflow to cancel: pending durable calls reject with a CancelledFailure the code
   * can catch (to compensate), and its running activities see their AbortSignal fire.
   */
  async cancel(reason?: string): Promise<void> {
    await this.runtime.link.call(`cancel workflow '${this.workflowId}'`, () =>
      inSpan(
        'redurable.cancel_workflow',
        { 'workflow.id': this.workflowId },
        undefined,
        () =>
          this.runtime.writes.external(this.workflowId, {
            action: 'cancel',
            event: { type: 'WorkflowCancelRequested', ...(reason ? { reason } : {}) },
            cancel: true,
          }),
        'client',
      ),
    );
  }

  /**
   * Resets the workflow: starts a new run of it whose history is this run's up to the reset
   * point, run by the code deployed now (so a fixed bug re-runs the steps after that point);
   * what followed is dropped, a running run is closed as reset and linked to the new one (a
   * closed run stays as it ended), and signals received after the point are recorded in the new
   * run too (`reapplySignals`). Only the current run can be reset. An invalid point is an
   * InvalidResetPointError, with nothing written. Returns a handle on the new run.
   *
   * @example
   * // deploy the fix, then re-run the step that failed the workflow:
   * const next = await handle.reset({ to: 'lastWorkflowTask', reason: 'fixed the fee rounding (#1234)' });
   * await next.result();
   */
  async reset(options: ResetOptions): Promise<WorkflowHandle<R, W>> {
    const runId = await this.runtime.link.call(`reset workflow '${this.workflowId}'`, () =>
      inSpan(
        'redurable.reset_workflow',
        { 'workflow.id': this.workflowId },
        undefined,
        () => resetWorkflow(this.runtime, this.workflowId, this.runId, options),
        'client',
      ),
    );
    return new WorkflowHandle<R, W>(this.runtime, this.workflowId, runId, this.workflowClass);
  }

  /**
   * Moves this running workflow, pinned to a build (`@Workflow({ versioning: 'pinned' })`), to
   * another build: its next tasks go to that build's workers. Use it when you know that build's
   * code replays the run (say, the run's own build is gone for good). Refused, with nothing
   * written, for a workflow not running (WorkflowNotRunningError) or not pinned
   * (InvalidArgumentError). `live` says whether a worker of that build runs now.
   *
   * @example
   * await client.getHandle('order-42').updateBuild('v2.3.1');
   */
  async updateBuild(build: string): Promise<BuildUpdate> {
    return this.runtime.link.call(`update the build of workflow '${this.workflowId}'`, () =>
      updateBuild(this.runtime, this.workflowId, build),
    );
  }

  /** Stops the workflow at once, without running its code; recorded as `terminated`. */
  async terminate(reason = 'terminated by the client'): Promise<void> {
    await this.runtime.link.call(`terminate workflow '${this.workflowId}'`, () =>
      inSpan(
        'redurable.terminate_workflow',
        { 'workflow.id': this.workflowId },
        undefined,
        async () => {
          const closed = await this.runtime.writes.terminate(this.workflowId, reason);
          // Its jobs go, its parent is told and its children get their policy (else the sweep does it).
          await this.runtime.runs.closedFromOutside(this.workflowId, closed.runId);
        },
        'client',
      ),
    );
  }

  /**
   * Runs a `@Query` handler on the workflow's state, rebuilt by replaying its history in this
   * process when its class is registered here (or given to `getHandle`); no worker is needed
   * then. Otherwise a worker serving the workflow's task queue answers, from its cached
   * execution or by replaying; with none answering within `connectTimeout`, a NoWorkerAnsweredError.
   */
  async query<K extends HandlerName<W>>(name: K, ...args: HandlerArgs<W, K>): Promise<HandlerResult<W, K>>;
  async query<T = unknown>(name: UntypedName<W>, ...args: unknown[]): Promise<T>;
  async query(name: string, ...args: unknown[]): Promise<unknown> {
    return queryWorkflow(this.runtime, this.workflowId, this.runId, name, args, (type) => this.definitionOf(type));
  }

  /**
   * Sends an update and waits for its result: the `@Update` handler's validator runs first, in
   * this process on the replayed state (a rejection is a WorkflowUpdateRejectedError, nothing
   * recorded), or, when the workflow's class is not registered here, in a worker serving its
   * task queue (as `query`: NoWorkerAnsweredError when none answers); then the update is recorded and the workflow's handler runs, and what it returns
   * is returned here (what it throws rejects with a WorkflowUpdateFailedError).
   */
  async executeUpdate<K extends HandlerName<W>>(name: K, ...args: HandlerArgs<W, K>): Promise<HandlerResult<W, K>>;
  async executeUpdate<T = unknown>(name: UntypedName<W>, ...args: unknown[]): Promise<T>;
  async executeUpdate(name: string, ...args: unknown[]): Promise<unknown> {
    return (await this.sendUpdate(randomUUID(), name, args)).result();
  }

  /**
   * Sends an update and returns once it is recorded (validated and accepted); await the update
   * handle's `result()` later, or from another process with `getUpdateHandle(updateId)`.
   */
  async startUpdate<K extends HandlerName<W>>(
    name: K,
    ...args: HandlerArgs<W, K>
  ): Promise<WorkflowUpdateHandle<HandlerResult<W, K>>>;
  async startUpdate<T = unknown>(name: UntypedName<W>, ...args: unknown[]): Promise<WorkflowUpdateHandle<T>>;
  async startUpdate(name: string, ...args: unknown[]): Promise<WorkflowUpdateHandle<unknown>> {
    return this.sendUpdate(randomUUID(), name, args);
  }

  /**
   * `startUpdate` with the caller's update id (a request id, say): an update id the run has
   * already accepted is not recorded again, the call returns its handle. Ids are deduplicated
   * within a run: after a continue-as-new, the same id sent again is a new update of the new run.
   */
  async startUpdateWithId<K extends HandlerName<W>>(
    updateId: string,
    name: K,
    ...args: HandlerArgs<W, K>
  ): Promise<WorkflowUpdateHandle<HandlerResult<W, K>>>;
  async startUpdateWithId<T = unknown>(
    updateId: string,
    name: UntypedName<W>,
    ...args: unknown[]
  ): Promise<WorkflowUpdateHandle<T>>;
  async startUpdateWithId(updateId: string, name: string, ...args: unknown[]): Promise<WorkflowUpdateHandle<unknown>> {
    if (typeof updateId !== 'string' || updateId.length === 0 || updateId.length > 256) {
      throw new InvalidArgumentError(
        `Invalid update id ${JSON.stringify(updateId)}: use a non-empty string of at most 256 characters`,
      );
    }
    return this.sendUpdate(updateId, name, args);
  }

  /** A handle on an update accepted earlier (from any process), to await its result. */
  getUpdateHandle<T = unknown>(updateId: string): WorkflowUpdateHandle<T> {
    return new WorkflowUpdateHandle<T>(this.runtime, this.workflowId, updateId, this.runId);
  }

  private async sendUpdate(updateId: string, name: string, args: unknown[]): Promise<WorkflowUpdateHandle<unknown>> {
    // Each Redis call inside is bounded by connectTimeout; the replay and validation between them are not Redis waits.
    const runId = await inSpan(
      'redurable.update_workflow',
      { 'workflow.id': this.workflowId, 'update.name': name, 'update.id': updateId },
      undefined,
      async () => {
        const here = await acceptUpdate(this.runtime, this.workflowId, name, args, updateId, (t) =>
          this.definitionOf(t),
        );
        if (typeof here === 'string') return here;
        const asked = { kind: 'update' as const, runId: here.remote.runId, name, args, updateId };
        return (await askWorker(this.runtime, here.remote, asked)).runId!;
      },
      'client',
    );
    return new WorkflowUpdateHandle(this.runtime, this.workflowId, updateId, runId);
  }

  /** The run's history, oldest first, payloads as stored (encoded). Export it as JSON for replay tests. */
  async fetchHistory(): Promise<HistoryEvent[]> {
    return this.runtime.link.call(`read the history of workflow '${this.workflowId}'`, async () => {
      const runId = this.runId ?? (await this.meta()).runId;
      return this.runtime.histories.readHistory(this.workflowId, runId);
    });
  }

  /**
   * Status, timestamps, and the pending activities with their attempt and last error: of the run
   * this handle was made for (`getHandle(id, runId)`), else of the current run.
   */
  async describe(): Promise<WorkflowDescription> {
    return this.runtime.link.call(`describe workflow '${this.workflowId}'`, () =>
      new WorkflowDescriber(this.runtime, this.workflowId).describe(this.runId),
    );
  }
}
