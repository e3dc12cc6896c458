import type { Duration } from 'redurable';

/** Injection token of the {@link TransfersConfig}. */
export const TRANSFERS_CONFIG = Symbol('TRANSFERS_CONFIG');

/** What every new transfer gets in its input (a running transfer keeps the values it started with). */
export interface TransfersConfig {
  /** Amounts above it wait for a human approval after the withdrawal. */
  approvalLimit: number;
  /** How long they wait before being refunded. */
  approvalTimeout: Duration;
}
