import { crashPoint } from '../common/crash-points.js';
import { randomUUID } from 'node:crypto';
import type { Type } from '@nestjs/common';
import { workflowDefinitionOf, type WorkflowDefinition } from '../discovery/registry.js';
import { validateWorkflowInput } from './input-validation.js';
import { RedurableError, UnknownWorkflowTypeError, WorkflowAlreadyStartedError } from '../errors/library.errors.js';
import type { DurableRuntime } from '../module/durable-runtime.js';
import { WorkflowHandle } from './workflow-handle.js';

/** Options of {@link WorkflowClient.start}. */
export interface StartWorkflowOptions<A extends unknown[] = unknown[]> {
  /** Business id of the execution; at most one run with this id runs at a time. */
  workflowId: string;
  /** Arguments of the `@WorkflowRun` method. @default [] */
  args?: A;
  /** Task queue to run on. @default the `@Workflow` taskQueue */
  taskQueue?: string;
}

type RunArgs<W> = W extends Type<infer I> ? RunOf<I> extends (...args: infer A) => unknown ? A : unknown[] : unknown[];
type RunResult<W> = W extends Type<infer I> ? RunOf<I> extends (...args: never[]) => infer R ? Awaited<R> : unknown : unknown;
type RunOf<I> = I extends { run: infer F } ? F : (...args: unknown[]) => unknown;

/**
 * Starts workflows and reaches running ones. Injectable anywhere once `DurableModule` is imported.
 *
 * @example
 * const handle = await this.workflows.start(TransferWorkflow, { workflowId: `transfer-${id}`, args: [dto] });
 * const result = await handle.result();
 */
export class WorkflowClient {
  constructor(private readonly runtime: DurableRuntime) {}

  /**
   * Starts a workflow. Throws (and writes nothing) when the type is unknown, an argument
   * cannot be stored, or a run with the same id is still running.
   */
  async start<W extends Type<object> | string>(workflow: W, options: StartWorkflowOptions<RunArgs<W>>): Promise<WorkflowHandle<RunResult<W>>> {
    const { store, converter, keys, redis, dispatcher } = this.runtime;
    const { workflowType, taskQueue, definition } = await this.resolveType(workflow, options.taskQueue);
    const workflowId = options.workflowId;
    if (typeof workflowId !== 'string' || workflowId.length === 0 || workflowId.length > 512) {
      throw new RedurableError(`Invalid workflowId ${JSON.stringify(workflowId)}: use a non-empty string of at most 512 characters`);
    }
    if (definition) validateWorkflowInput(definition, options.args ?? []);
    const input = converter.encodeAll(options.args ?? [], `workflow '${workflowType}' (${workflowId})`);
    const runId = randomUUID();
    await redis.zadd(keys.openIndex(), 'NX', Date.now(), workflowId);
    const res = await store.start({ type: 'WorkflowExecutionStarted', workflowType, workflowId, runId, taskQueue, input });
    if (!res.started) throw new WorkflowAlreadyStartedError(workflowId, res.runningRunId);
    crashPoint('start.after-script');
    await dispatcher.enqueueTask(workflowId, runId, taskQueue, 'start');
    return new WorkflowHandle(this.runtime, workflowId, runId);
  }

  /** Starts a workflow and waits for its result. */
  async execute<W extends Type<object> | string>(workflow: W, options: StartWorkflowOptions<RunArgs<W>>): Promise<RunResult<W>> {
    const handle = await this.start(workflow, options);
    return handle.result();
  }

  /** A handle on an existing workflow (its current run, or `runId`). */
  getHandle<R = unknown>(workflowId: string, runId?: string): WorkflowHandle<R> {
    return new WorkflowHandle<R>(this.runtime, workflowId, runId);
  }

  private async resolveType(workflow: Type<object> | string, taskQueue?: string): Promise<{ workflowType: string; taskQueue: string; definition?: WorkflowDefinition }> {
    if (typeof workflow !== 'string') {
      const def = workflowDefinitionOf(workflow);
      return { workflowType: def.name, taskQueue: taskQueue ?? def.taskQueue, definition: def };
    }
    const local = this.runtime.registry.workflows.get(workflow);
    if (local) return { workflowType: local.name, taskQueue: taskQueue ?? local.taskQueue, definition: local };
    const known = await this.runtime.redis.sismember(this.runtime.keys.workflowTypes(), workflow);
    if (!known) throw new UnknownWorkflowTypeError(workflow);
    return { workflowType: workflow, taskQueue: taskQueue ?? 'default' };
  }
}
