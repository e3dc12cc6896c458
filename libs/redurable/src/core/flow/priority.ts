import { InvalidArgumentError } from '../errors/library.errors.js';

/** Priorities run from 1 (first) to 10 (last). */
export const HIGHEST_PRIORITY = 1;
export const LOWEST_PRIORITY = 10;
/** The priority of a workflow started without one (and of its activities and children). */
export const DEFAULT_PRIORITY = 5;

/**
 * Checks a `priority` option (an integer from 1, first, to 10, last); throws
 * InvalidArgumentError naming `what` otherwise. Returns the priority, or undefined when not given.
 */
export function checkPriority(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < HIGHEST_PRIORITY || value > LOWEST_PRIORITY) {
    throw new InvalidArgumentError(
      `Invalid priority ${JSON.stringify(value)} of ${what}: use an integer from ${HIGHEST_PRIORITY} (runs first) to ${LOWEST_PRIORITY} (runs last); the default is ${DEFAULT_PRIORITY}. Nothing was written`,
    );
  }
  return value;
}

/**
 * The BullMQ priority of a job of priority `priority` (recorded, or undefined for the default).
 * Every job of a workflow gets one, the default included: BullMQ takes a job from its `wait`
 * list (jobs without a priority) before any prioritized job, so a job left unprioritized would
 * overtake every prioritized one.
 */
export function jobPriority(priority: number | undefined): number {
  return priority ?? DEFAULT_PRIORITY;
}
