/**
 * The task queues whose workers run in this process: empty until the workers start. Once
 * shutdown begins the process is `draining`: running work still finishes here, but nothing new
 * (an eager first task) starts.
 */
export class ServedQueues {
  private queues = new Set<string>();
  draining = false;
  /** Task queues where a newer build's workers take new runs (see WorkerHeartbeat): no eager first task here. */
  superseded = new Set<string>();

  /** The workers start (or, with an empty list, are gone). */
  set(taskQueues: Iterable<string>): void {
    this.queues = new Set(taskQueues);
  }

  has(taskQueue: string): boolean {
    return this.queues.has(taskQueue);
  }

  list(): string[] {
    return [...this.queues];
  }
}
