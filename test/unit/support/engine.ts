import 'reflect-metadata';
import { DurableRegistry } from '../../../libs/redurable/src/core/definitions/registry.js';
import type { Type } from '../../../libs/redurable/src/core/types.js';
import { ActivityRunner } from '../../../libs/redurable/src/engine/activity-runner.js';
import { SlotTable } from '../../../libs/redurable/src/engine/activity-slots.js';
import { EagerActivities } from '../../../libs/redurable/src/engine/eager-activities.js';
import { ServedQueues } from '../../../libs/redurable/src/engine/served-queues.js';
import { TaskTokens } from '../../../libs/redurable/src/core/task-token.js';
import { StepDispatch } from '../../../libs/redurable/src/engine/step-dispatch.js';
import { WorkflowTaskRunner } from '../../../libs/redurable/src/engine/task-runner.js';
import { WorkflowCache } from '../../../libs/redurable/src/engine/workflow-cache.js';
import { FakeClock } from './clock.js';
import { json, started } from './histories.js';
import { MemoryHistories } from './memory-histories.js';
import { MemoryClaims } from './memory-claims.js';
import { MemoryJobs } from './memory-jobs.js';
import {
  RecordingChildStarter,
  RecordingLogger,
  RecordingMetrics,
  RecordingRunClosing,
  ScriptedLocalActivities,
} from './recorders.js';

export const LEASE_TTL = 1000;
export const TASK_RETRY = { baseMs: 1000, maxMs: 60_000 };

/**
 * A WorkflowTaskRunner built as runtime.ts builds it (a real WorkflowCache, a real StepDispatch
 * over the jobs), over the in-memory store and jobs, with `workflows` registered.
 */
export function taskRunner(
  workflows: Type<object>[],
  { local = {}, cacheSize = 10 }: { local?: Record<string, (...args: never[]) => unknown>; cacheSize?: number } = {},
) {
  const clock = new FakeClock();
  const store = new MemoryHistories(clock);
  const jobs = new MemoryJobs();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const runs = new RecordingRunClosing();
  const children = new RecordingChildStarter();
  const registry = new DurableRegistry();
  for (const w of workflows) registry.addWorkflow(w);
  const cache = new WorkflowCache(cacheSize);
  const steps = new StepDispatch({ dispatcher: jobs, children, logger });
  const localActivities = new ScriptedLocalActivities(json, local);
  // Eager activities off: every activity is a job here (the e2e tests cover eager ones).
  const eager = new EagerActivities({
    activities: new ActivityRunner({ registry, converter: json, defaults: {}, logger, metrics }),
    histories: store,
    tokens: new TaskTokens(async () => 'unit-test-secret'),
    claims: new MemoryClaims(clock),
    // Eager is off: no limits are ever asked for.
    limits: {
      enter: async () => ({ held: { release: async () => undefined, keepUntil: async () => undefined } }),
      forget: async () => undefined,
    },
    jobs,
    served: new ServedQueues(),
    slots: new SlotTable(),
    logger,
    metrics,
    settings: { enabled: false, leaseTtlMs: LEASE_TTL, owner: 'unit' },
  });
  const runner = new WorkflowTaskRunner({
    store,
    registry,
    converter: json,
    cache,
    dispatcher: jobs,
    steps,
    local: localActivities,
    eager,
    runs,
    slots: { releaseAfterClose: async () => undefined }, // no workflow limits here
    metrics,
    logger,
    clock,
    settings: { leaseTtlMs: LEASE_TTL, retentionMs: 0, taskRetry: TASK_RETRY },
  });
  /** Starts run `runId` of workflow `workflowId` (as the client would), on task queue `q`. */
  const start = (
    workflowType: string,
    input: unknown[],
    workflowId: string,
    runId: string,
    extra: Parameters<typeof started>[2] = {},
  ) =>
    store.start(
      { type: 'WorkflowExecutionStarted', ...started(workflowType, input, { workflowId, runId, ...extra }) },
      { checkAfterMs: LEASE_TTL },
    );
  return { clock, store, jobs, logger, metrics, runs, children, cache, local: localActivities, runner, start };
}
