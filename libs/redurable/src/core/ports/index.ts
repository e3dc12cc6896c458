/**
 * The ports: what the engine, the client and the queues need from outside the library's own
 * logic (a logger, a clock, a metrics sink, and the stores that hold durable state), each an
 * interface here. The composition root (runtime.ts) gives the real ones (store/ implements the
 * stores on Redis); a unit test can give its own, in memory.
 */
export * from './logger.js';
export * from './clock.js';
export * from './metrics.js';
export * from './histories.js';
export * from './indexes.js';
export * from './catalog.js';
export * from './schedules.js';
export * from './runs.js';
export * from './jobs.js';
export * from './claims.js';
export * from './flow.js';
export * from './workflow-slots.js';
