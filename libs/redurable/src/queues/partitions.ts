import { InvalidOptionsError } from '../core/errors/library.errors.js';
import type { PartitionRecords } from '../core/ports/index.js';

/**
 * How many partitions each task queue has. A count is recorded in Redis by the first process
 * that configures it (or the first worker serving the task queue, as 1) and never changes, so
 * once read it is cached: every process sends a workflow's jobs to the same partition, and the
 * recovery sweep looks for them there.
 */
export class PartitionTable {
  private readonly known = new Map<string, number>();

  constructor(
    private readonly store: PartitionRecords,
    private readonly configured: Record<string, number>,
    /** The key prefix the counts are recorded under (named in errors). */
    private readonly prefix: string,
  ) {}

  /**
   * Records the configured counts, and 1 for `served` task queues without one, where nothing is
   * recorded yet; refuses (InvalidOptionsError, nothing else written) a count that differs from
   * the recorded one.
   */
  async record(served: string[]): Promise<void> {
    const wanted: Record<string, number> = { ...Object.fromEntries(served.map((q) => [q, 1])), ...this.configured };
    const recorded = await this.store.recordPartitions(wanted);
    const clashes = Object.entries(this.configured).filter(([q, n]) => recorded[q] !== n);
    if (clashes.length) {
      throw new InvalidOptionsError(
        `Invalid DurableModule options: partitions ${clashes.map(([q, n]) => `of task queue '${q}' is ${n}, but ${recorded[q]} is recorded under prefix '${this.prefix}'`).join('; ')}. ` +
          'The count of a task queue cannot change while it has jobs: use the recorded count (or drain the task queue and use a new prefix)',
      );
    }
    for (const [q, n] of Object.entries(recorded)) this.known.set(q, n);
  }

  /** The task queue's partition count: recorded (cached once read), else 1. */
  async of(taskQueue: string): Promise<number> {
    const cached = this.known.get(taskQueue);
    if (cached !== undefined) return cached;
    const recorded = await this.store.recordedPartitions(taskQueue);
    if (recorded === undefined) return 1; // no worker has served it yet: its jobs wait in partition 0
    this.known.set(taskQueue, recorded);
    return recorded;
  }

  /** The count this process knows without asking Redis (1 when it has not read it). */
  knownOf(taskQueue: string): number {
    return this.known.get(taskQueue) ?? 1;
  }
}
