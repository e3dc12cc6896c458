/**
 * The workload of the flow-control soak (flow-soak.ts): a workflow type limited to 2 running at
 * once per key, whose run works for a while (an activity, a durable timer, an activity), and
 * the Nest module of its worker processes (flow-soak-worker.ts) and of the soak's client.
 */
import 'reflect-metadata';
import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import {
  Activities,
  Activity,
  DurableModule,
  Workflow,
  WorkflowRun,
  type RedisConnectionOption,
  type RedurableLogger,
} from 'redurable';
import { proxyActivities, sleep } from 'redurable/workflow';

export const FLOW_SOAK_QUEUE = 'flow-soak';
/** Runs of one key allowed at once. */
export const FLOW_SOAK_LIMIT = 2;

@Injectable()
@Activities()
export class FlowSoakActivities {
  /** Works for `ms` (a SIGKILL meanwhile makes it run again elsewhere). */
  @Activity() async work(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
  }
}

/** At most FLOW_SOAK_LIMIT runs per key at once: an activity, a timer, an activity. */
@Workflow({ taskQueue: FLOW_SOAK_QUEUE, concurrency: { limit: FLOW_SOAK_LIMIT, key: (key: string) => key } })
export class KeyedWorkflow {
  private readonly acts = proxyActivities(FlowSoakActivities, {
    startToCloseTimeout: '10s',
    retry: { initialInterval: '100ms', maximumInterval: '1s' },
  });

  @WorkflowRun() async run(key: string, ms: number): Promise<string> {
    await this.acts.work(ms);
    await sleep(ms);
    await this.acts.work(ms);
    return key;
  }
}

/**
 * DurableModule for the soak on `connection` and `prefix`: a worker (`worker`) with a short
 * lease and sweep, so that what a SIGKILL leaves (a workflow task, a slot whose release did not
 * happen) is repaired within the soak, or a client only. `logger`: where the library's warnings go.
 */
export function flowSoakModule(
  connection: RedisConnectionOption,
  prefix: string,
  worker: boolean,
  logger: RedurableLogger | false = false,
): DynamicModule {
  @Module({
    imports: [
      DurableModule.forRoot({
        connection,
        prefix,
        worker,
        leaseTtl: '2s',
        sweepInterval: '500ms',
        lockDuration: '2s',
        connectTimeout: '30s',
        logger,
      }),
    ],
    providers: [FlowSoakActivities, KeyedWorkflow],
  })
  class FlowSoakModule {}
  return { module: FlowSoakModule };
}
