import type { Clock } from '../../../libs/redurable/src/core/ports/index.js';

/**
 * A clock a test moves by hand. The in-memory store reads it as its server time (leases, due
 * times, stream ids) and the engine as workflow time: one clock for both, where a real
 * deployment has Redis' clock and the workers'.
 */
export class FakeClock implements Clock {
  constructor(private ms = 1_000_000) {}

  now(): number {
    return this.ms;
  }

  advance(ms: number): number {
    this.ms += ms;
    return this.ms;
  }
}
