export * from './workflow.decorator.js';
export * from './activity.decorator.js';
export type { WorkflowOptions, ActivityOptions, ActivityCallOptions } from './metadata.js';
