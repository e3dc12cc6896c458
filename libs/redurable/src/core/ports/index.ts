/**
 * The ports: what the engine, the client and the queues need from outside the library's own
 * logic (a logger, a clock and a metrics sink), each an interface here. The composition root
 * (runtime.ts) gives the real ones, a unit test its own.
 */
export * from './logger.js';
export * from './clock.js';
export * from './metrics.js';
