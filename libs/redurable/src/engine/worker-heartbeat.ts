import { hostname } from 'node:os';
import type { Logger } from '../core/ports/index.js';
import type { WorkerRecord, WorkerRegistry } from '../store/worker-registry.js';

/** What supersededQueues reads of a worker record. */
type BuildWorker = Pick<WorkerRecord, 'build' | 'workflowTypes' | 'since'>;

/**
 * The task queues a worker leaves to a newer build: those where the live workers of one build
 * first seen after the worker's own (`seen`: when each build's first worker came up, by Redis'
 * clock), each up for at least `settledMs` (a build whose pods crash at boot never takes over),
 * register together every workflow type this worker registers there. Workers without a build
 * never leave a queue, nor count as newer; a worker that registers no workflow type on a task
 * queue (activities only) takes no part there.
 */
export function supersededQueues(
  self: Pick<WorkerRecord, 'build' | 'workflowTypes'>,
  live: BuildWorker[],
  seen: Record<string, number>,
  now: number,
  settledMs: number,
): Set<string> {
  const out = new Set<string>();
  if (self.build === undefined) return out;
  const own = seen[self.build] ?? 0;
  const newer = new Map<string, Map<string, Set<string>>>(); // build → task queue → types
  for (const w of live) {
    if (w.build === undefined || w.build === self.build || (seen[w.build] ?? 0) <= own) continue;
    if (w.since > now - settledMs) continue;
    const queues = newer.get(w.build) ?? new Map<string, Set<string>>();
    for (const [q, types] of Object.entries(w.workflowTypes ?? {}))
      queues.set(q, new Set([...(queues.get(q) ?? []), ...types]));
    newer.set(w.build, queues);
  }
  for (const [q, types] of Object.entries(self.workflowTypes ?? {})) {
    if (types.length === 0) continue;
    for (const queues of newer.values()) if (types.every((t) => queues.get(q)?.has(t))) out.add(q);
  }
  return out;
}

/**
 * Keeps this worker process registered while it runs (`redurable build list`): a beat at start
 * and every `intervalMs` (live for three intervals), a goodbye at close. Each beat also reads
 * the live workers and tells `supersede` which task queues a newer build now serves (this
 * worker's shared workflow queues pause for those: see WorkerHost.supersede). A beat that fails
 * is logged and tried again at the next interval.
 */
export class WorkerHeartbeat {
  private timer?: NodeJS.Timeout;
  private readonly record: WorkerRecord;
  /** The beat under way, awaited by stop() so that no beat re-registers the worker after its goodbye. */
  private beating: Promise<void> = Promise.resolve();

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly logger: Logger,
    worker: { id: string; build?: string; taskQueues: string[]; workflowTypes: Record<string, string[]> },
    /** Applies a new set of task queues left to a newer build (WorkerHost.supersede). */
    private readonly supersede: (taskQueues: Set<string>) => Promise<void>,
  ) {
    this.record = {
      id: worker.id,
      ...(worker.build !== undefined ? { build: worker.build } : {}),
      host: hostname(),
      pid: process.pid,
      taskQueues: worker.taskQueues,
      workflowTypes: worker.workflowTypes,
      since: Date.now(),
    };
  }

  /** Registers the worker and decides, before its workers take anything, which task queues it leaves to a newer build. */
  async start(intervalMs: number): Promise<void> {
    await this.registry.beat(this.record, 3 * intervalMs);
    await this.decide(intervalMs);
    this.timer = setInterval(() => {
      this.beating = this.registry
        .beat(this.record, 3 * intervalMs)
        .then(() => this.decide(intervalMs))
        .catch((err: Error) => this.logger.warn(`Worker registry: a heartbeat failed (${err.message}); next one soon`));
    }, intervalMs);
    this.timer.unref();
  }

  /** Reads the live workers, leaves the task queues a newer build serves (and takes back the others), and records that. */
  private async decide(intervalMs: number): Promise<void> {
    if (this.record.build === undefined) return;
    const [live, seen] = await Promise.all([this.registry.live(), this.registry.builds()]);
    const superseded = supersededQueues(this.record, live, seen, Date.now(), 2 * intervalMs);
    const before = this.record.superseded ?? [];
    const after = [...superseded].sort();
    if (after.join() === before.join()) return;
    await this.supersede(superseded);
    this.logger.log(
      after.length > 0
        ? `Build ${this.record.build}: a newer build serves task queue(s) ${after.join(', ')}; this worker now takes only the runs pinned to its build there`
        : `Build ${this.record.build}: this worker takes new runs again`,
    );
    this.record.superseded = after;
    await this.registry.beat(this.record, 3 * intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    await this.registry.leave(this.record.id).catch(() => undefined);
  }
}
