/**
 * The Redurable console: Bull Board for the library's queues and the workflow explorer.
 *
 * @packageDocumentation
 */
export { RedurableConsoleModule } from './console.module.js';
export type { RedurableConsoleOptions } from './console-options.js';
export { BoardQueuesRegistrar } from './board-queues.registrar.js';
export { QUEUE_BOARD, type QueueBoard } from './queue-board.js';
export { WorkflowExplorerController } from './workflow-explorer.controller.js';
export { ScheduleExplorerController } from './schedule-explorer.controller.js';
export type { ConsoleAuth } from './console-auth.js';
