import type { CommandEvent, NewCommand } from '../core/events.js';
import type { ScopeState } from './scopes.js';

/** A durable call workflow code waits on: settled by the event that records its outcome. */
export interface PendingCompletion {
  resolve(value: unknown): void;
  reject(err: Error): void;
  command: NewCommand;
  /** The recorded event when the command was matched on replay; absent for new commands. */
  recorded?: CommandEvent;
  /** Rejected by a cancellation request (false inside `nonCancellable`). */
  cancellable: boolean;
  /** The cancellation scope the call was made in, if any. */
  scope?: ScopeState;
}

/** A `condition()` waiting for its predicate. */
export interface WaitingCondition {
  predicate: () => boolean;
  resolve(met: boolean): void;
  reject(err: Error): void;
  cancellable: boolean;
  scope?: ScopeState;
}

/** Which waits a cancellation ends: by whether they are cancellable, or by their scope. */
export type WaitSelector = (wait: { cancellable: boolean; scope?: ScopeState }) => boolean;

/**
 * The durable calls (by sequence number) and conditions that workflow code waits on. A call a
 * cancellation ended is remembered as abandoned, so its late outcome is ignored rather than
 * taken for a call the code never made.
 */
export class PendingCalls {
  private readonly pending = new Map<number, PendingCompletion>();
  private readonly abandoned = new Set<number>();
  private readonly conditions = new Set<WaitingCondition>();

  park(seq: number, completion: PendingCompletion): void {
    this.pending.set(seq, completion);
  }

  /** The call waiting for `seq`'s outcome, taken; `abandoned` when a cancellation ended it; undefined when none was made. */
  take(seq: number): PendingCompletion | 'abandoned' | undefined {
    const p = this.pending.get(seq);
    if (p) {
      this.pending.delete(seq);
      return p;
    }
    return this.abandoned.has(seq) ? 'abandoned' : undefined;
  }

  /** Commands matched on replay that still wait for their outcome. */
  recorded(): CommandEvent[] {
    return [...this.pending.values()].flatMap((p) => (p.recorded ? [p.recorded] : []));
  }

  wait(condition: WaitingCondition): void {
    this.conditions.add(condition);
  }

  /** Stops waiting on `condition` (its timer fired); false when it already settled. */
  stopWaiting(condition: WaitingCondition): boolean {
    return this.conditions.delete(condition);
  }

  /** Rejects, with `failure()`, every call and condition `which` selects; their late outcomes are ignored. */
  reject(which: WaitSelector, failure: () => Error): void {
    for (const [seq, p] of this.pending) {
      if (!which(p)) continue;
      this.pending.delete(seq);
      this.abandoned.add(seq);
      p.reject(failure());
    }
    for (const c of this.conditions) {
      if (!which(c)) continue;
      this.conditions.delete(c);
      c.reject(failure());
    }
  }

  /**
   * Resolves the conditions whose predicate holds (`holds` runs it in workflow context), and
   * looks again after draining the microtasks while any did: a resolved condition's code may
   * make another hold.
   */
  async settleConditions(holds: (predicate: () => boolean) => boolean, drain: () => Promise<void>): Promise<void> {
    for (let changed = true; changed && this.conditions.size > 0;) {
      changed = false;
      for (const c of [...this.conditions]) {
        if (!holds(c.predicate)) continue;
        this.conditions.delete(c);
        c.resolve(true);
        changed = true;
      }
      if (changed) await drain();
    }
  }
}
