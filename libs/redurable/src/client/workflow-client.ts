import type { Type } from '../core/types.js';
import { workflowDefinitionOf } from '../core/definitions/registry.js';
import type { SearchAttributeType } from '../core/search/search-attributes.js';
import type { ClientParts } from './client-parts.js';
import { WorkflowHandle } from './workflow-handle.js';
import { ActivityCompletionClient } from './activity-completion.js';
import type { RunArgs, RunResult, WorkflowInstance } from './typed-handles.js';
import type { ScheduleClient } from './schedules/schedule-client.js';
import { listWorkflows, countWorkflows, type ListWorkflowsFilter, type ListWorkflowsPage } from './workflow-listing.js';
import type { SignalWithStartOptions, StartWorkflowOptions, WorkflowStarter } from './workflow-starter.js';

export type { SignalWithStartOptions, StartWorkflowOptions };

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

  /** @internal (built by the runtime; inject it, or take `runtime.client`) */
  constructor(
    private readonly runtime: ClientParts,
    private readonly starter: WorkflowStarter,
    schedule: ScheduleClient,
  ) {
    this.activity = new ActivityCompletionClient(runtime);
    this.schedule = schedule;
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
    const { runId } = await this.starter.start(workflow, options);
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
    const { runId } = await this.starter.signalWithStart(workflow, options);
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
}

function classOf(workflow: Type<object> | string): Type<object> | undefined {
  return typeof workflow === 'string' ? undefined : workflow;
}
