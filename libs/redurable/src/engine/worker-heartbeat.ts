import { hostname } from 'node:os';
import type { Logger } from '../core/ports/index.js';
import type { WorkerRegistry } from '../store/worker-registry.js';

/**
 * Keeps this worker process registered while it runs (`redurable build list`): a beat at start
 * and every `intervalMs` (live for three intervals), a goodbye at close. A beat that fails is
 * logged and tried again at the next interval: the workers' work does not depend on it.
 */
export class WorkerHeartbeat {
  private timer?: NodeJS.Timeout;
  private readonly record;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly logger: Logger,
    worker: { id: string; build?: string; taskQueues: string[] },
  ) {
    this.record = {
      id: worker.id,
      ...(worker.build !== undefined ? { build: worker.build } : {}),
      host: hostname(),
      pid: process.pid,
      taskQueues: worker.taskQueues,
      since: Date.now(),
    };
  }

  async start(intervalMs: number): Promise<void> {
    await this.registry.beat(this.record, 3 * intervalMs);
    this.timer = setInterval(() => {
      this.registry
        .beat(this.record, 3 * intervalMs)
        .catch((err: Error) => this.logger.warn(`Worker registry: a heartbeat failed (${err.message}); next one soon`));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.registry.leave(this.record.id).catch(() => undefined);
  }
}
