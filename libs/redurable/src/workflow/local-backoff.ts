/**
 * How a local activity's attempt that must be retried after a durable timer reaches its
 * caller in workflow code: `executeLocalActivity` catches it, sleeps `backoffMs` on a timer,
 * and schedules attempt `nextAttempt`. Never seen by user code.
 */
export class LocalActivityBackoff extends Error {
  constructor(
    readonly backoffMs: number,
    readonly nextAttempt: number,
  ) {
    super(`local activity retries after a ${backoffMs}ms durable timer (attempt ${nextAttempt})`);
    this.name = 'LocalActivityBackoff';
  }
}
