import type { createBullBoard } from '@bull-board/api';

/** The Bull Board instance the console mounts: call `addQueue(new BullMQAdapter(queue))` to show more queues. */
export type QueueBoard = ReturnType<typeof createBullBoard>;

/** Injection token of the console's {@link QueueBoard}. */
export const QUEUE_BOARD = Symbol('REDURABLE_QUEUE_BOARD');

/** Injection token of the Bull Board Express server adapter the console mounts. */
export const QUEUE_BOARD_SERVER = Symbol('REDURABLE_QUEUE_BOARD_SERVER');

/**
 * What the console uses of Bull Board's Express adapter (kept structural so that the console's
 * type declarations do not pull in Express's).
 */
export interface QueueBoardServer {
  setBasePath(path: string): unknown;
  /** An Express router, mounted as Nest middleware. */
  getRouter(): unknown;
}
