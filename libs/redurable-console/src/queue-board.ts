import type { createBullBoard } from '@bull-board/api';

/** The Bull Board instance the console mounts: call `addQueue(new BullMQAdapter(queue))` to show more queues. */
export type QueueBoard = ReturnType<typeof createBullBoard>;

/** Injection token of the console's {@link QueueBoard}. */
export const QUEUE_BOARD = Symbol('REDURABLE_QUEUE_BOARD');

/** Injection token of the Bull Board Express server adapter the console mounts. */
export const QUEUE_BOARD_SERVER = Symbol('REDURABLE_QUEUE_BOARD_SERVER');
