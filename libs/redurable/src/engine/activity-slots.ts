/**
 * The activity slots of one task queue in this process: `concurrency` attempts at once, queued
 * jobs and eager activities together. A job's attempt waits for a slot (first come, first
 * served); an eager activity takes one only when it is free and no job waits for it, else it is
 * queued (so a busy worker leaves the work to others). An attempt gives its slot back as soon as
 * it returns, before its outcome is recorded: recording it may start the next eager activity.
 */
export class ActivitySlots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly capacity: number) {}

  /** Takes a free slot for an eager activity; false when none is free or a job waits. */
  tryTake(): boolean {
    if (this.used >= this.capacity || this.waiting.length > 0) return false;
    this.used++;
    return true;
  }

  /** Takes a slot for a job's attempt, waiting for one. */
  take(): Promise<void> {
    if (this.used < this.capacity && this.waiting.length === 0) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Gives a slot back: to the job waiting longest, else free. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used--;
  }

  /** A function that gives a held slot back, once however often it is called (an attempt frees it as soon as it returns, and again in its `finally`). */
  releaser(): () => void {
    let held = true;
    return () => {
      if (held) this.release();
      held = false;
    };
  }
}

/** The slots of each task queue this process serves (created as its workers start). */
export class SlotTable {
  private readonly slots = new Map<string, ActivitySlots>();

  /** Sets a task queue's capacity (its activity workers' concurrency, over its partitions). */
  serve(taskQueue: string, capacity: number): void {
    this.slots.set(taskQueue, new ActivitySlots(capacity));
  }

  /** The slots of a task queue, if this process serves it. */
  of(taskQueue: string): ActivitySlots | undefined {
    return this.slots.get(taskQueue);
  }
}
