export * from './redurable.error.js';
export * from './temporal-failure.js';
export * from './library.errors.js';
export * from './failure-codec.js';
