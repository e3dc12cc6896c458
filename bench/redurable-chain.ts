/**
 * The Redurable side of the benchmark: a workflow that chains trivial activities (the
 * counterpart of the raw BullMQ chain), a workflow that sleeps (timer lateness), a workflow
 * that parks on a long timer after a chain (replay cost), and a Nest application context
 * running them on its own key prefix.
 */
import 'reflect-metadata';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Activities,
  Activity,
  DurableModule,
  Workflow,
  WorkflowClient,
  WorkflowRun,
  type DurableModuleOptions,
  type RedisConnectionOption,
} from 'redurable';
import { proxyActivities, proxyLocalActivities, sleep } from 'redurable/workflow';
import { DurableRuntime } from 'redurable/internal';

export const TASK_QUEUE = 'bench';

@Injectable()
@Activities()
export class BenchActivities {
  @Activity() async step(n: number): Promise<number> {
    return n + 1;
  }
}

/** `steps` sequential activities; returns `steps`. */
@Workflow({ taskQueue: TASK_QUEUE })
export class ChainWorkflow {
  private readonly acts = proxyActivities(BenchActivities);

  @WorkflowRun() async run(steps: number): Promise<number> {
    return chainOf((n) => this.acts.step(n), steps);
  }
}

/** `steps` sequential local activities; returns `steps`. */
@Workflow({ taskQueue: TASK_QUEUE })
export class LocalChainWorkflow {
  private readonly acts = proxyLocalActivities(BenchActivities);

  @WorkflowRun() async run(steps: number): Promise<number> {
    return chainOf((n) => this.acts.step(n), steps);
  }
}

/** Calls `step` `steps` times, each with the previous result (from 0). */
async function chainOf(step: (n: number) => Promise<number>, steps: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < steps; i++) n = await step(n);
  return n;
}

/** One durable sleep. */
@Workflow({ taskQueue: TASK_QUEUE })
export class SleepWorkflow {
  @WorkflowRun() async run(ms: number): Promise<void> {
    await sleep(ms);
  }
}

/** A chain of `steps` activities, then a one-hour timer: the workflow stays open with a long history. */
@Workflow({ taskQueue: TASK_QUEUE })
export class ParkedWorkflow {
  private readonly acts = proxyActivities(BenchActivities);

  @WorkflowRun() async run(steps: number): Promise<void> {
    let n = 0;
    for (let i = 0; i < steps; i++) n = await this.acts.step(n);
    await sleep('1h');
  }
}

export interface BenchApp {
  app: INestApplicationContext;
  client: WorkflowClient;
  runtime: DurableRuntime;
  close(): Promise<void>;
}

/** A Nest application context with DurableModule on `prefix`, serving the bench task queue. */
export async function startBenchApp(
  connection: RedisConnectionOption,
  prefix: string,
  options: Partial<DurableModuleOptions> = {},
): Promise<BenchApp> {
  @Module({
    imports: [
      DurableModule.forRoot({
        connection,
        prefix,
        logger: false,
        concurrency: 64,
        workflowConcurrency: 64,
        ...options,
      }),
    ],
    providers: [BenchActivities, ChainWorkflow, LocalChainWorkflow, SleepWorkflow, ParkedWorkflow],
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  await app.init();
  return { app, client: app.get(WorkflowClient), runtime: app.get(DurableRuntime), close: () => app.close() };
}

/** Starts a ChainWorkflow (a LocalChainWorkflow with `local`) and waits for its result. */
export async function runChain(
  client: WorkflowClient,
  workflowId: string,
  steps: number,
  local = false,
): Promise<void> {
  const handle = await client.start(local ? LocalChainWorkflow : ChainWorkflow, { workflowId, args: [steps] });
  const result = await handle.result();
  if (result !== steps) throw new Error(`workflow ${workflowId} returned ${result}, expected ${steps}`);
}
