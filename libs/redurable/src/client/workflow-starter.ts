import { randomUUID } from 'node:crypto';
import { crashPoint } from '../core/crash-points.js';
import { workflowDefinitionOf, type WorkflowDefinition } from '../core/definitions/registry.js';
import { WorkflowIdReuseError } from '../core/errors/id-policy.errors.js';
import {
  InvalidArgumentError,
  UnknownWorkflowTypeError,
  WorkflowAlreadyStartedError,
} from '../core/errors/library.errors.js';
import { UnknownSignalError } from '../core/errors/workflow-control.js';
import { encodeMemo } from '../core/payload/memo.js';
import { RUN_CHANGED, retryWhileRunChanges } from '../core/run-change.js';
import {
  recordSearchAttributes,
  withoutRemovals,
  type RecordedSearchAttributes,
  type SearchAttributes,
} from '../core/search/search-attributes.js';
import { checkTaskQueueName } from '../core/task-queue-name.js';
import { checkDebounce, type DebounceOptions } from '../core/flow/debounce.js';
import { checkPriority, DEFAULT_PRIORITY } from '../core/flow/priority.js';
import { workflowFlowOf } from '../core/flow/workflow-flow.js';
import type { Type } from '../core/types.js';
import type { IdConflictPolicy, IdReusePolicy } from '../core/workflow-state.js';
import { deadlineOf, recordTimeouts, timeoutsInMs, type WorkflowTimeoutOptions } from '../core/workflow-timeouts.js';
import { inSpan, traceOf } from '../observability/tracing.js';
import type { ClientParts } from './client-parts.js';
import { validateWorkflowInput } from './input-validation.js';

/** Options of {@link WorkflowClient.start}. */
export interface StartWorkflowOptions<A extends unknown[] = unknown[]> extends WorkflowTimeoutOptions {
  /** Business id of the execution; at most one run with this id runs at a time. */
  workflowId: string;
  /** Arguments of the `@WorkflowRun` method. @default [] */
  args?: A;
  /**
   * Task queue to run on. @default the `@Workflow` taskQueue (started by type name in a process
   * without the class: the task queue its workers registered the type on)
   */
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
  /**
   * The run's priority, 1 (first) … 10 (last): its workflow tasks and activities are taken from
   * their queues before those of runs of a larger number (BullMQ priorities), and it goes before
   * them among the starts waiting for a concurrency slot of its key. Its activities and children
   * take it unless they set their own; continue-as-new and reset keep it. Not an integer in 1..10:
   * InvalidArgumentError, nothing written. @default 5
   */
  priority?: number;
  /**
   * Start the run `period` after the last start of its workflow id, with that start's
   * arguments: a start with `debounce` of an id whose run is still waiting for its debounced
   * start (of the same type) replaces its arguments and pushes its start back, never past its
   * first start + `maxWait`, and returns that run's handle. Once the run began, the id policies
   * apply as to any start (`workflowIdConflictPolicy`: by default WorkflowAlreadyStartedError).
   * Signals sent meanwhile wait for the run. Not with a `concurrency` limit on the type, nor
   * signal-with-start. A period below 1 ms, a maxWait below the period or an unknown field:
   * InvalidArgumentError, nothing written.
   * @example { period: '5s', maxWait: '1m' }
   */
  debounce?: DebounceOptions;
}

/** Options of {@link WorkflowClient.signalWithStart}. */
export interface SignalWithStartOptions<A extends unknown[] = unknown[]> extends Omit<
  StartWorkflowOptions<A>,
  'workflowIdConflictPolicy' | 'debounce'
> {
  signal: string;
  signalArgs?: unknown[];
}

/** The parts a start uses. */
export type StarterParts = Pick<
  ClientParts,
  | 'histories'
  | 'catalog'
  | 'link'
  | 'converter'
  | 'registry'
  | 'dispatcher'
  | 'metrics'
  | 'clock'
  | 'settings'
  | 'runs'
  | 'firstTasks'
  | 'slots'
>;

/** A signal recorded with a start (signal-with-start). */
type StartSignal = { type: 'SignalReceived'; signalName: string; input: string[] };

/**
 * Starts runs: validates the type, arguments, task queue, timeouts and search attributes
 * (writing nothing on bad input), applies the id policies in one script, and gets the first task
 * going (here, eagerly, when this process serves its task queue; else as a job). Used by
 * WorkflowClient and by schedules.
 */
export class WorkflowStarter {
  constructor(private readonly runtime: StarterParts) {}

  /** Starts a run (in a span, within `connectTimeout`); returns the id of the run the id now has. */
  start(workflow: Type<object> | string, options: StartWorkflowOptions): Promise<{ runId: string }> {
    return this.runtime.link.call(`start workflow '${options?.workflowId}'`, () =>
      inSpan(
        'redurable.start_workflow',
        { 'workflow.id': options?.workflowId, 'workflow.type': typeName(workflow) },
        undefined,
        () => this.startRun(workflow, options),
        'client',
      ),
    );
  }

  /** Signal-with-start (in a span, within `connectTimeout`); returns the run that got the signal. */
  signalWithStart(workflow: Type<object> | string, options: SignalWithStartOptions): Promise<{ runId: string }> {
    const input = this.runtime.converter.encodeAll(
      options.signalArgs ?? [],
      `signal '${options.signal}' of workflow '${options.workflowId}'`,
    );
    return this.runtime.link.call(`signal-with-start workflow '${options.workflowId}'`, () =>
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
  }

  private async startRun(
    workflow: Type<object> | string,
    options: StartWorkflowOptions,
    signal?: StartSignal,
  ): Promise<{ runId: string }> {
    const { histories: store, converter, dispatcher, firstTasks, runs } = this.runtime;
    const { workflowType, taskQueue, definition, registeredLimit } = await this.resolveType(
      workflow,
      options.taskQueue,
    );
    checkTaskQueueName(taskQueue, `start workflow '${options.workflowId}'`);
    const workflowId = options.workflowId;
    if (typeof workflowId !== 'string' || workflowId.length === 0 || workflowId.length > 512) {
      throw new InvalidArgumentError(
        `Invalid workflowId ${JSON.stringify(workflowId)}: use a non-empty string of at most 512 characters`,
      );
    }
    const priority = checkPriority(options.priority, `workflow '${workflowType}' (${workflowId})`);
    const debounce = this.checkedDebounce(options, workflowType, definition, signal);
    if (definition) validateWorkflowInput(definition, options.args ?? []);
    if (signal && definition && !(signal.signalName in definition.signals)) {
      throw new UnknownSignalError(workflowId, workflowType, signal.signalName, Object.keys(definition.signals));
    }
    const input = converter.encodeAll(options.args ?? [], `workflow '${workflowType}' (${workflowId})`);
    const timeouts = recordTimeouts(
      timeoutsInMs(options, `workflow '${workflowType}' (${workflowId})`),
      this.runtime.clock.now(),
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
    // A limited type: the key from the arguments, before anything is written (a bad key function writes nothing).
    const limit = definition?.concurrency ?? registeredLimit;
    const flow = limit && workflowFlowOf(limit, options.args ?? [], { workflowType, workflowId, runId });
    // Eager start (not for signal-with-start, whose signal may land in a running run, nor for a
    // run that must first wait for its concurrency slot).
    const eager = signal === undefined && !flow && !debounce && firstTasks.serves(taskQueue);
    return retryWhileRunChanges(workflowId, signal ? 'signal-with-start' : 'start', async () => {
      // The current run matters only when this start writes to it; otherwise save the round trip.
      const touchesCurrent =
        signal !== undefined || debounce !== undefined || options.workflowIdConflictPolicy === 'TERMINATE_EXISTING';
      const currentRunId = touchesCurrent ? await store.currentRunId(workflowId) : undefined;
      const res = await store.start({
        requestId: runId,
        checkAfterMs: this.runtime.settings.leaseTtlMs,
        leaseTtlMs: eager ? this.runtime.settings.leaseTtlMs : undefined,
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
          ...(priority !== undefined && priority !== DEFAULT_PRIORITY ? { priority } : {}),
          ...(flow ? { flow } : {}),
          ...(debounce ? { debounce } : {}),
          ...(this.runtime.settings.buildId ? { buildId: this.runtime.settings.buildId } : {}),
        },
        ...(debounce ? { debounce: { ...debounce, input } } : {}),
        reuse,
        conflict: options.workflowIdConflictPolicy ?? 'FAIL',
        currentRunId,
        signal,
        terminateReason: `terminated by a new start of '${workflowId}' (workflowIdConflictPolicy TERMINATE_EXISTING)`,
        retentionMs: this.runtime.settings.retentionMs,
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
          // A limited run waits for its slot (its first task comes when it gets one; if this
          // process dies first, the recovery sweep asks for it).
          if (flow) await this.runtime.slots.requestAfterStart({ workflowId, runId, taskQueue, priority }, flow);
          else if (res.startAt !== undefined)
            await this.debouncedTask(workflowId, runId, taskQueue, priority, res.startAt);
          else if (!(eager && firstTasks.runFirstTask(workflowId, runId, taskQueue, res.lease)))
            await dispatcher.enqueueTask(workflowId, runId, taskQueue, 'start', { priority });
          // A run this start terminated may have a parent to tell and children to stop (else the sweep does it).
          if (currentRunId && options.workflowIdConflictPolicy === 'TERMINATE_EXISTING')
            await runs.closedFromOutside(workflowId, currentRunId);
          return { runId };
        }
        case 'debounced':
          crashPoint('debounce.after-script');
          // The task at the new start time; the one at the old time is no longer needed (were it
          // to run, it finds the run not yet due, as if a task held it, and ends).
          await this.debouncedTask(workflowId, res.runId, taskQueue, res.priority, res.startAt);
          if (res.startAt !== res.previousStartAt)
            await dispatcher.removeTask(workflowId, res.runId, taskQueue, debounceTag(res.previousStartAt));
          return { runId: res.runId };
        case 'existing':
          if (res.wake) await dispatcher.enqueueTask(workflowId, res.runId, taskQueue, `signal-${runId}`);
          return { runId: res.runId };
        case 'running':
          throw new WorkflowAlreadyStartedError(workflowId, res.runId);
        case 'reuse-rejected':
          throw new WorkflowIdReuseError(workflowId, res.status, reuse);
        case 'retry':
          return RUN_CHANGED;
      }
    });
  }

  /**
   * The checked `debounce` option; refused with signal-with-start (its signal may land in a
   * running run) and on a type with a concurrency limit (its key comes from arguments a later
   * start may replace).
   */
  private checkedDebounce(
    options: StartWorkflowOptions,
    workflowType: string,
    definition: WorkflowDefinition | undefined,
    signal: StartSignal | undefined,
  ) {
    const what = `workflow '${workflowType}' (${options.workflowId})`;
    const debounce = checkDebounce(options.debounce, what);
    if (debounce && signal)
      throw new InvalidArgumentError(
        `signalWithStart of ${what} does not take debounce: use start(). Nothing was written`,
      );
    if (debounce && definition?.concurrency)
      throw new InvalidArgumentError(
        `start of ${what} with debounce: the type has a concurrency limit, and debounce is not available on limited types. Nothing was written`,
      );
    return debounce;
  }

  /** The debounced run's first task, due at `startAt` (a crash before it is added: the recovery sweep adds it after then). */
  private debouncedTask(
    workflowId: string,
    runId: string,
    taskQueue: string,
    priority: number | undefined,
    startAt: number,
  ) {
    return this.runtime.dispatcher.enqueueTask(workflowId, runId, taskQueue, debounceTag(startAt), {
      delay: Math.max(0, startAt - Date.now()),
      priority,
    });
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
  ): Promise<{
    workflowType: string;
    taskQueue: string;
    definition?: WorkflowDefinition;
    /** A start by type name: the type's keyless limit its workers registered (a keyed one is refused). */
    registeredLimit?: { name: string; limit: number };
  }> {
    if (typeof workflow !== 'string') {
      const def = workflowDefinitionOf(workflow);
      // A class no process registered (here, or a worker in Redis) would be started and then
      // retried forever by no one: refused, nothing written.
      if (!this.runtime.registry.workflows.has(def.name) && !(await this.runtime.catalog.isKnownWorkflowType(def.name)))
        throw new UnknownWorkflowTypeError(def.name);
      return { workflowType: def.name, taskQueue: taskQueue ?? def.taskQueue, definition: def };
    }
    const local = this.runtime.registry.workflows.get(workflow);
    if (local) return { workflowType: local.name, taskQueue: taskQueue ?? local.taskQueue, definition: local };
    // A type with a registered task queue is known: one round trip. Without one (workers of an
    // older version recorded none) the type list decides, and the task queue is the @Workflow default.
    const registered = await this.runtime.catalog.workflowRegistration(workflow);
    if (registered.taskQueue === undefined && !(await this.runtime.catalog.isKnownWorkflowType(workflow)))
      throw new UnknownWorkflowTypeError(workflow);
    // Its limit holds here too; a per-key one needs the class's key function.
    if (registered.limit?.keyed)
      throw new InvalidArgumentError(
        `Cannot start workflow type '${workflow}' by name here: it has a per-key concurrency limit ('${registered.limit.name}', ${registered.limit.limit} per key) whose key the class computes from the arguments, and this process does not register the class. Start it from a process that does (DurableModule.forFeature), or from a workflow as a child. Nothing was written`,
      );
    return {
      workflowType: workflow,
      taskQueue: taskQueue ?? registered.taskQueue ?? 'default',
      ...(registered.limit ? { registeredLimit: { name: registered.limit.name, limit: registered.limit.limit } } : {}),
    };
  }
}

/** The tag of a debounced run's task due at `startAt`. */
function debounceTag(startAt: number): string {
  return `debounce-${startAt}`;
}

/** The workflow type's name, for spans. */
export function typeName(workflow: Type<object> | string): string {
  return typeof workflow === 'string' ? workflow : workflow.name;
}
