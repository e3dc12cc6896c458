export * from './redurable.error.js';
export * from './temporal-failure.js';
export * from './library.errors.js';
export * from './failure-codec.js';
export * from './workflow-control.js';
export * from './id-policy.errors.js';
