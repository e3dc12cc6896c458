import { randomUUID } from 'node:crypto';
import type { Type } from '../core/types.js';
import { crashPoint } from '../core/crash-points.js';
import { workflowDefinitionOf, type WorkflowDefinition } from '../core/definitions/registry.js';
import { WorkflowIdReuseError } from '../core/errors/id-policy.errors.js';
import {
  InvalidArgumentError,
  UnknownWorkflowTypeError,
  WorkflowAlreadyStartedError,
  WorkflowRunChangedError,
} from '../core/errors/library.errors.js';
import { UnknownSignalError } from '../core/errors/workflow-control.js';
import type { IdConflictPolicy, IdReusePolicy } from '../core/workflow-state.js';
import type { ClientContext } from './client-context.js';
import { validateWorkflowInput } from './input-validation.js';
import { checkTaskQueueName } from '../core/task-queue-name.js';
import { inSpan, traceOf } from '../observability/tracing.js';
import { WorkflowHandle } from './workflow-handle.js';
import { ActivityCompletionClient } from './activity-completion.js';
import type { RunArgs, RunResult, WorkflowInstance } from './typed-handles.js';
import { RUN_CHANGE_ATTEMPTS } from '../queues/workflow-writes.js';
import { deadlineOf, timeoutsInMs, recordTimeouts, type WorkflowTimeoutOptions } from '../core/workflow-timeouts.js';
import {
  recordSearchAttributes,
  withoutRemovals,
  type RecordedSearchAttributes,
  type SearchAttributes,
  type SearchAttributeType,
} from '../core/search/search-attributes.js';
import { encodeMemo } from '../core/payload/memo.js';
import { ScheduleClient } from './schedules/schedule-client.js';
import { listWorkflows, countWorkflows, type ListWorkflowsFilter, type ListWorkflowsPage } from './workflow-listing.js';

/** Options of {@link WorkflowClient.start}. */
export interface StartWorkflowOptions<A extends unknown[] = unknown[]> extends WorkflowTimeoutOptions {
  /** Business id of the execution; at most one run with this id runs at a time. */
  workflowId: string;
  /** Arguments of the `@WorkflowRun` method. @default [] */
  args?: A;
  /** Task queue to run on. @default the `@Workflow` taskQueue */
  taskQueue?: string;
  /** When the id's last run is closed: start again always, only if it did not complete, or never. @default 'ALLOW_DUPLICATE' */
  workflowIdReusePolicy?: IdReusePolicy;
  /** When a run with the id is running: fail, return a handle to it, or terminate it and start anew. @default 'FAIL' */
  workflowIdConflictPolicy?: IdConflictPolicy;
  /**
   * Indexed fields to find the workflow by with `client.list({ query })`, each declared in the
   * workflow's `@Workflow({ searchAttributes })` with a value of its type (else an
   * InvalidSearchAttributeError, and nothing is written). Kept by continue-as-new; a new run of
   * the id replaces them.
   * @example { customerId: 'c-1', amount: 500, dueAt: new Date('2026-12-24') }
   */
  searchAttributes?: SearchAttributes;
  /**
   * Data shown with the workflow (`describe().memo`), not indexed: stored with the DataConverter
   * (so a Date stays a Date, and an encryption codec applies). Kept by continue-as-new.
   */
  memo?: Record<string, unknown>;
}

/** Options of {@link WorkflowClient.signalWithStart}. */
export interface SignalWithStartOptions<A extends unknown[] = unknown[]> extends Omit<
  StartWorkflowOptions<A>,
  'workflowIdConflictPolicy'
> {
  signal: string;
  signalArgs?: unknown[];
}

/**
 * Starts workflows and reaches running ones. Injectable anywhere once `DurableModule` is imported.
 *
 * @example
 * const handle = await this.workflows.start(TransferWorkflow, { workflowId: `transfer-${id}`, args: [dto] });
 * const result = await handle.result();
 */
export class WorkflowClient {
  /** Completes, fails or heartbeats activities that complete asynchronously (`activityContext().completeAsync()`). */
  readonly activity: ActivityCompletionClient;
  /** Creates and operates schedules: workflows started on a cron expression or at an interval. */
  readonly schedule: ScheduleClient;

  /** @internal */
  constructor(private readonly runtime: ClientContext) {
    this.activity = new ActivityCompletionClient(runtime);
    this.schedule = new ScheduleClient(runtime.schedules);
  }

  /**
   * Starts a workflow. Throws (and writes nothing) when the type is unknown, an argument
   * cannot be stored, or the id policies forbid it (by default: a run with the id is running).
   * Rejects with a RedisUnavailableError when Redis does not answer within `connectTimeout`.
   */
  async start<W extends Type<object> | string>(
    workflow: W,
    options: StartWorkflowOptions<RunArgs<W>>,
  ): Promise<WorkflowHandle<RunResult<W>, WorkflowInstance<W>>> {
    const { runId } = await this.runtime.link.call(`start workflow '${options?.workflowId}'`, () =>
      inSpan(
        'redurable.start_workflow',
        { 'workflow.id': options?.workflowId, 'workflow.type': typeName(workflow) },
        undefined,
        () => this.startRun(workflow, options),
        'client',
      ),
    );
    return new WorkflowHandle(this.runtime, options.workflowId, runId, classOf(workflow));
  }

  /** Starts a workflow and waits for its result. */
  async execute<W extends Type<object> | string>(
    workflow: W,
    options: StartWorkflowOptions<RunArgs<W>>,
  ): Promise<RunResult<W>> {
    const handle = await this.start(workflow, options);
    return handle.result();
  }

  /**
   * Sends a signal to the workflow with this id, starting it first (atomically) when no run
   * is running. The signal is the first thing the new run receives.
   */
  async signalWithStart<W extends Type<object> | string>(
    workflow: W,
    options: SignalWithStartOptions<RunArgs<W>>,
  ): Promise<WorkflowHandle<RunResult<W>, WorkflowInstance<W>>> {
    const input = this.runtime.converter.encodeAll(
      options.signalArgs ?? [],
      `signal '${options.signal}' of workflow '${options.workflowId}'`,
    );
    const { runId } = await this.runtime.link.call(`signal-with-start workflow '${options.workflowId}'`, () =>
      inSpan(
        'redurable.signal_with_start',
        { 'workflow.id': options.workflowId, 'workflow.type': typeName(workflow), 'signal.name': options.signal },
        undefined,
        () =>
          this.startRun(
            workflow,
            { ...options, workflowIdConflictPolicy: 'USE_EXISTING' },
            { type: 'SignalReceived', signalName: options.signal, input },
          ),
        'client',
      ),
    );
    return new WorkflowHandle(this.runtime, options.workflowId, runId, classOf(workflow));
  }

  /**
   * A handle on an existing workflow (its current run, or `runId`). Given the workflow's class,
   * the handle is typed from it: signal, query and update names and arguments are checked by
   * the compiler, results typed from the handlers and the `@WorkflowRun` method.
   *
   * @example
   * const handle = this.workflows.getHandle(TransferWorkflow, 'transfer-42');
   * await handle.executeUpdate('changeLimit', 500); // a misspelled name or a string limit does not compile
   */
  getHandle<W extends Type<object>>(
    workflow: W,
    workflowId: string,
    runId?: string,
  ): WorkflowHandle<RunResult<W>, InstanceType<W>>;
  getHandle<R = unknown>(workflowId: string, runId?: string): WorkflowHandle<R>;
  getHandle(workflowOrId: Type<object> | string, idOrRunId?: string, runId?: string): WorkflowHandle<unknown, unknown> {
    if (typeof workflowOrId === 'string') return new WorkflowHandle(this.runtime, workflowOrId, idOrRunId);
    workflowDefinitionOf(workflowOrId); // a class that is not a workflow is refused now, not at the first call
    return new WorkflowHandle(this.runtime, idOrRunId!, runId, workflowOrId);
  }

  /**
   * Decodes a payload as stored in a history (`fetchHistory()`), with the app's codec. Throws a
   * PayloadError when this process cannot (no codec, or not the key it was encrypted with).
   */
  decodePayload(stored: string): unknown {
    return this.runtime.converter.decode(stored, 'payload');
  }

  /**
   * Workflows matching the filter, newest first (a query ranging over a number or datetime
   * attribute without an equality orders by it), a page at a time.
   *
   * @example
   * const page = await client.list({ query: "customerId = 'c-1' AND amount >= 100", limit: 20 });
   */
  list(filter: ListWorkflowsFilter = {}): Promise<ListWorkflowsPage> {
    return this.runtime.link.call('list workflows', () =>
      listWorkflows(this.runtime, filter, () => this.knownSearchAttributes()),
    );
  }

  /** How many workflows match the filter. */
  count(filter: Omit<ListWorkflowsFilter, 'limit' | 'cursor'> = {}): Promise<number> {
    return this.runtime.link.call('count workflows', () =>
      countWorkflows(this.runtime, filter, () => this.knownSearchAttributes()),
    );
  }

  /** Search attribute names and types declared by the workflow classes of this process and those workers registered. */
  private async knownSearchAttributes(): Promise<Record<string, SearchAttributeType>> {
    const known: Record<string, SearchAttributeType> = {};
    for (const declared of Object.values(await this.runtime.catalog.searchAttributeDeclarations()))
      Object.assign(known, declared);
    for (const def of this.runtime.registry.workflows.values()) Object.assign(known, def.searchAttributes);
    return known;
  }

  private async startRun(
    workflow: Type<object> | string,
    options: StartWorkflowOptions,
    signal?: { type: 'SignalReceived'; signalName: string; input: string[] },
  ): Promise<{ runId: string }> {
    const { store, converter, dispatcher } = this.runtime;
    const { workflowType, taskQueue, definition } = await this.resolveType(workflow, options.taskQueue);
    checkTaskQueueName(taskQueue, `start workflow '${options.workflowId}'`);
    const workflowId = options.workflowId;
    if (typeof workflowId !== 'string' || workflowId.length === 0 || workflowId.length > 512) {
      throw new InvalidArgumentError(
        `Invalid workflowId ${JSON.stringify(workflowId)}: use a non-empty string of at most 512 characters`,
      );
    }
    if (definition) validateWorkflowInput(definition, options.args ?? []);
    if (signal && definition && !(signal.signalName in definition.signals)) {
      throw new UnknownSignalError(workflowId, workflowType, signal.signalName, Object.keys(definition.signals));
    }
    const input = converter.encodeAll(options.args ?? [], `workflow '${workflowType}' (${workflowId})`);
    const timeouts = recordTimeouts(
      timeoutsInMs(options, `workflow '${workflowType}' (${workflowId})`),
      this.runtime.now(),
    );
    const searchAttributes =
      options.searchAttributes &&
      (await this.startSearchAttributes(workflowType, options.searchAttributes, definition));
    const memo =
      options.memo && encodeMemo(converter, options.memo, `memo of workflow '${workflowType}' (${workflowId})`);
    const reuse = options.workflowIdReusePolicy ?? 'ALLOW_DUPLICATE';
    // The new run's id doubles as the start's request id: a copy of the start script resent
    // after a lost reply finds that run's history and returns it instead of failing on it.
    const runId = randomUUID();
    // Eager start (not for signal-with-start, whose signal may land in a running run).
    const eager = signal === undefined && this.runtime.serves(taskQueue);
    for (let attempt = 0; attempt < RUN_CHANGE_ATTEMPTS; attempt++) {
      // The current run matters only when this start writes to it; otherwise save the round trip.
      const touchesCurrent = signal !== undefined || options.workflowIdConflictPolicy === 'TERMINATE_EXISTING';
      const currentRunId = touchesCurrent ? await store.currentRunId(workflowId) : undefined;
      const res = await store.start({
        requestId: runId,
        checkAfterMs: this.runtime.leaseTtlMs,
        leaseTtlMs: eager ? this.runtime.leaseTtlMs : undefined,
        started: {
          type: 'WorkflowExecutionStarted',
          workflowType,
          workflowId,
          runId,
          taskQueue,
          input,
          ...traceOf(),
          ...(searchAttributes ? { searchAttributes } : {}),
          ...(memo ? { memo } : {}),
          ...(timeouts ? { timeouts } : {}),
        },
        reuse,
        conflict: options.workflowIdConflictPolicy ?? 'FAIL',
        currentRunId,
        signal,
        terminateReason: `terminated by a new start of '${workflowId}' (workflowIdConflictPolicy TERMINATE_EXISTING)`,
        retentionMs: this.runtime.retentionMs,
      });
      switch (res.kind) {
        case 'started': {
          this.runtime.metrics.workflowStarted(workflowType);
          crashPoint('start.after-script');
          // The timeout job exists once start() returns (a crash before it: the first task adds it).
          const deadline = deadlineOf(timeouts);
          if (deadline) await dispatcher.scheduleTimeout({ workflowId, runId, taskQueue }, deadline);
          // Eager start: a process that serves the task queue runs the first task itself, under
          // the lease the start script took for it (a crash before it commits is repaired by the
          // recovery sweep once the lease expires); any other enqueues it.
          if (!(eager && this.runtime.runFirstTask(workflowId, runId, taskQueue, res.lease)))
            await dispatcher.enqueueTask(workflowId, runId, taskQueue, 'start');
          // A run this start terminated may have a parent to tell and children to stop (else the sweep does it).
          if (currentRunId && options.workflowIdConflictPolicy === 'TERMINATE_EXISTING')
            await this.runtime.writes.afterTerminate(workflowId, currentRunId);
          return { runId };
        }
        case 'existing':
          if (res.wake) await dispatcher.enqueueTask(workflowId, res.runId, taskQueue, `signal-${runId}`);
          return { runId: res.runId };
        case 'running':
          throw new WorkflowAlreadyStartedError(workflowId, res.runId);
        case 'reuse-rejected':
          throw new WorkflowIdReuseError(workflowId, res.status, reuse);
        case 'retry':
          continue;
      }
    }
    throw new WorkflowRunChangedError(workflowId, signal ? 'signal-with-start' : 'start', RUN_CHANGE_ATTEMPTS);
  }

  /**
   * Validates start search attributes against the type's declaration: the class's, else the one
   * a worker registered in Redis; a type with neither (a worker of an older version) gets the
   * values with their types inferred.
   */
  private async startSearchAttributes(
    workflowType: string,
    values: SearchAttributes,
    definition?: WorkflowDefinition,
  ): Promise<RecordedSearchAttributes> {
    const declared =
      definition?.searchAttributes ?? (await this.runtime.catalog.searchAttributeDeclarations())[workflowType];
    return withoutRemovals(recordSearchAttributes(workflowType, values, declared));
  }

  private async resolveType(
    workflow: Type<object> | string,
    taskQueue?: string,
  ): Promise<{ workflowType: string; taskQueue: string; definition?: WorkflowDefinition }> {
    if (typeof workflow !== 'string') {
      const def = workflowDefinitionOf(workflow);
      return { workflowType: def.name, taskQueue: taskQueue ?? def.taskQueue, definition: def };
    }
    const local = this.runtime.registry.workflows.get(workflow);
    if (local) return { workflowType: local.name, taskQueue: taskQueue ?? local.taskQueue, definition: local };
    if (!(await this.runtime.catalog.isKnownWorkflowType(workflow))) throw new UnknownWorkflowTypeError(workflow);
    return { workflowType: workflow, taskQueue: taskQueue ?? 'default' };
  }
}

function classOf(workflow: Type<object> | string): Type<object> | undefined {
  return typeof workflow === 'string' ? undefined : workflow;
}

function typeName(workflow: Type<object> | string): string {
  return typeof workflow === 'string' ? workflow : workflow.name;
}
