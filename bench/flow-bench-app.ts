/**
 * The workloads of the flow-control benchmark (flow-bench.ts): the same trivial activity with and
 * without a concurrency limit (one that never makes it wait), a workflow type limited to one
 * running at once per key, and an activity limited to RATE starts per second; and a Nest
 * application context running them on its own key prefix.
 */
import 'reflect-metadata';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Activities,
  Activity,
  DurableModule,
  activityContext,
  Workflow,
  WorkflowClient,
  WorkflowRun,
  type DurableModuleOptions,
} from 'redurable';
import { proxyActivities, sleep } from 'redurable/workflow';
import { DurableRuntime } from 'redurable/internal';

export const FLOW_BENCH_QUEUE = 'flow-bench';
/** The rate limit measured: starts per second. */
export const RATE = 50;
/** A concurrency limit no run of the benchmark reaches. */
export const NEVER_REACHED = 10_000;

/** When each rate-limited start ran, in this process (the benchmark runs one worker), and its rate holder id. */
export const rateStarts: { at: number; holder: string }[] = [];

@Injectable()
@Activities()
export class FlowBenchActivities {
  @Activity() async step(n: number): Promise<number> {
    return n + 1;
  }

  /** The same step under a concurrency limit that never makes it wait. */
  @Activity({ concurrency: { limit: NEVER_REACHED } })
  async limitedStep(n: number): Promise<number> {
    return n + 1;
  }

  /** At most RATE starts per second. */
  @Activity({ rateLimit: { limit: RATE, period: '1s' } })
  async rated(): Promise<void> {
    const c = activityContext();
    rateStarts.push({ at: Date.now(), holder: `act:${c.workflowId}|${c.runId}|${c.activityId}#${c.attempt}` });
  }
}

/** `steps` sequential activities: `step`, or `limitedStep` with `limited`. */
@Workflow({ taskQueue: FLOW_BENCH_QUEUE })
export class StepsWorkflow {
  private readonly acts = proxyActivities(FlowBenchActivities);

  @WorkflowRun() async run(steps: number, limited: boolean): Promise<number> {
    let n = 0;
    for (let i = 0; i < steps; i++) n = limited ? await this.acts.limitedStep(n) : await this.acts.step(n);
    return n;
  }
}

/** One running at once per key: holds its slot for an hour (`hold`), or runs one step. */
@Workflow({ taskQueue: FLOW_BENCH_QUEUE, concurrency: { limit: 1, key: (key: string) => key } })
export class OnePerKeyWorkflow {
  private readonly acts = proxyActivities(FlowBenchActivities);

  @WorkflowRun() async run(_key: string, hold: boolean): Promise<void> {
    if (hold) await sleep('1h');
    else await this.acts.step(0);
  }
}

/** `calls` rate-limited activities at once. */
@Workflow({ taskQueue: FLOW_BENCH_QUEUE })
export class RatedWorkflow {
  private readonly acts = proxyActivities(FlowBenchActivities);

  @WorkflowRun() async run(calls: number): Promise<void> {
    await Promise.all(Array.from({ length: calls }, () => this.acts.rated()));
  }
}

export interface FlowBenchApp {
  app: INestApplicationContext;
  client: WorkflowClient;
  runtime: DurableRuntime;
  close(): Promise<void>;
}

/** A Nest application context with DurableModule on `prefix`, serving the benchmark's task queue. */
export async function startFlowBenchApp(
  url: string,
  prefix: string,
  options: Partial<DurableModuleOptions> = {},
): Promise<FlowBenchApp> {
  @Module({
    imports: [
      DurableModule.forRoot({
        connection: url,
        prefix,
        logger: false,
        concurrency: 64,
        workflowConcurrency: 64,
        ...options,
      }),
    ],
    providers: [FlowBenchActivities, StepsWorkflow, OnePerKeyWorkflow, RatedWorkflow],
  })
  class FlowBenchModule {}
  const app = await NestFactory.createApplicationContext(FlowBenchModule, { logger: false });
  await app.init();
  return { app, client: app.get(WorkflowClient), runtime: app.get(DurableRuntime), close: () => app.close() };
}
