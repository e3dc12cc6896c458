import { InvalidOptionsError } from '../core/errors/library.errors.js';
import {
  noMetrics,
  type ActivityDispatch,
  type DurableMetrics,
  type FlowControl,
  type FlowLimitUsage,
} from '../core/ports/index.js';

export type { DurableMetrics };

/** The metrics the parts report to: nothing until Prometheus metrics are turned on (`metrics` option). */
export class MetricsSink implements DurableMetrics {
  private impl: DurableMetrics = noMetrics;

  use(impl: DurableMetrics): void {
    this.impl = impl;
  }

  workflowStarted(t: string): void {
    this.impl.workflowStarted(t);
  }
  workflowClosed(t: string, s: string): void {
    this.impl.workflowClosed(t, s);
  }
  workflowTask(t: string, s: number): void {
    this.impl.workflowTask(t, s);
  }
  cacheLookup(hit: boolean): void {
    this.impl.cacheLookup(hit);
  }
  activityAttempt(t: string, o: 'completed' | 'failed' | 'retried', s: number, d: ActivityDispatch): void {
    this.impl.activityAttempt(t, o, s, d);
  }
  activityScheduleToStart(t: string, s: number, d: ActivityDispatch): void {
    this.impl.activityScheduleToStart(t, s, d);
  }
  sweepRepair(r: string): void {
    this.impl.sweepRepair(r);
  }
}

/** The `metrics` option: `true` registers on prom-client's default registry. */
export interface MetricsOptions {
  /** A prom-client `Registry` to register on. @default prom-client's default `register` */
  registry?: unknown;
  /** Prefix of every metric name. @default 'redurable_' */
  prefix?: string;
}

type PromClient = typeof import('prom-client');
type Registry = import('prom-client').Registry;

/** Where the flow gauges of a registry read (the last app that registered on it: apps of one process share a registry's metrics). */
const flowSources = new WeakMap<Registry, Pick<FlowControl, 'usageByLimit'>>();
/** One read serves both flow gauges of a scrape (each collects on its own). */
const READ_REUSE_MS = 1000;

/**
 * The gauges of running and waiting holders per concurrency limit. They are read from Redis
 * when scraped (every process's holders, not this one's), through `flowSources`; one read
 * serves both. A read that fails leaves them without samples rather than failing the scrape.
 */
function flowGauges(prom: PromClient, registry: Registry, p: string): void {
  let last: { at: number; read: Promise<FlowLimitUsage[]> } | undefined;
  const read = (): Promise<FlowLimitUsage[]> => {
    const source = flowSources.get(registry);
    if (!source) return Promise.resolve([]);
    if (!last || Date.now() - last.at > READ_REUSE_MS) last = { at: Date.now(), read: source.usageByLimit() };
    return last.read;
  };
  const gauge = (name: string, help: string, pick: (u: FlowLimitUsage) => number) => {
    if (registry.getSingleMetric(p + name)) return;
    new prom.Gauge({
      name: p + name,
      help,
      labelNames: ['limit'],
      registers: [registry],
      async collect() {
        const usage = await read().catch(() => []);
        this.reset();
        for (const u of usage) this.set({ limit: u.limit }, pick(u));
      },
    });
  };
  gauge('flow_running', 'Holders of concurrency limit slots, across every process (read from Redis)', (u) => u.running);
  gauge(
    'flow_waiting',
    'Workflows and activities waiting for a concurrency limit slot, across every process',
    (u) => u.waiting,
  );
}

/**
 * Prometheus metrics through prom-client (an optional peer dependency: install it to use
 * them). Names, with the default prefix:
 * `redurable_workflows_started_total{workflow_type}`, `redurable_workflows_closed_total{workflow_type,status}`,
 * `redurable_workflow_task_duration_seconds{workflow_type}`, `redurable_workflow_cache_lookups_total{result}`,
 * `redurable_activity_attempts_total{activity_type,outcome}`, `redurable_activity_duration_seconds{activity_type,outcome}`,
 * `redurable_activity_schedule_to_start_seconds{activity_type}`, `redurable_sweep_repairs_total{reason}`,
 * and, when `flow` is given, the gauges `redurable_flow_running{limit}` and `redurable_flow_waiting{limit}`
 * (per concurrency limit's name, never its keys: read from Redis at each scrape).
 */
export async function prometheusMetrics(
  options: MetricsOptions,
  flow?: Pick<FlowControl, 'usageByLimit'>,
): Promise<DurableMetrics> {
  let prom: PromClient;
  try {
    prom = (await import('prom-client')) as PromClient;
  } catch {
    throw new InvalidOptionsError(
      'The `metrics` option needs prom-client: `npm install prom-client` (15 or later), or leave `metrics` out',
    );
  }
  const registers = [(options.registry ?? prom.register) as Registry];
  const p = options.prefix ?? 'redurable_';
  /** The same metric when two apps in one process (tests) register on one registry. */
  const reuse = <T>(name: string, make: () => T): T => (registers[0].getSingleMetric(name) as T | undefined) ?? make();
  const counter = (name: string, help: string, labelNames: string[]) =>
    reuse(p + name, () => new prom.Counter({ name: p + name, help, labelNames, registers }));
  const histogram = (name: string, help: string, labelNames: string[], buckets: number[]) =>
    reuse(p + name, () => new prom.Histogram({ name: p + name, help, labelNames, buckets, registers }));
  const fast = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  const slow = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900];
  const started = counter('workflows_started_total', "Workflows started by this process's client", ['workflow_type']);
  const closed = counter('workflows_closed_total', "Workflow runs closed by this process's workers", [
    'workflow_type',
    'status',
  ]);
  const task = histogram(
    'workflow_task_duration_seconds',
    'Workflow task latency: from taking the lease to committing',
    ['workflow_type'],
    fast,
  );
  const cache = counter(
    'workflow_cache_lookups_total',
    'Workflow tasks that found the execution in the cache (hit) or replayed the history (miss)',
    ['result'],
  );
  const attempts = counter(
    'activity_attempts_total',
    'Activity attempts by outcome, and how they ran (eager, queue, local)',
    ['activity_type', 'outcome', 'dispatch'],
  );
  const duration = histogram(
    'activity_duration_seconds',
    'Activity attempt duration',
    ['activity_type', 'outcome', 'dispatch'],
    slow,
  );
  const lag = histogram(
    'activity_schedule_to_start_seconds',
    'From scheduling an activity to its first attempt',
    ['activity_type', 'dispatch'],
    slow,
  );
  const repairs = counter('sweep_repairs_total', 'Lost work the recovery sweep repaired', ['reason']);
  if (flow) {
    flowSources.set(registers[0], flow);
    flowGauges(prom, registers[0], p);
  }
  return {
    workflowStarted: (t) => started.inc({ workflow_type: t }),
    workflowClosed: (t, s) => closed.inc({ workflow_type: t, status: s }),
    workflowTask: (t, s) => task.observe({ workflow_type: t }, s),
    cacheLookup: (hit) => cache.inc({ result: hit ? 'hit' : 'miss' }),
    activityAttempt: (t, o, s, d) => {
      attempts.inc({ activity_type: t, outcome: o, dispatch: d });
      duration.observe({ activity_type: t, outcome: o, dispatch: d }, s);
    },
    activityScheduleToStart: (t, s, d) => lag.observe({ activity_type: t, dispatch: d }, Math.max(0, s)),
    sweepRepair: (r) => repairs.inc({ reason: r }),
  };
}
