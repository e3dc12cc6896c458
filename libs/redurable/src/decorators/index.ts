export * from './workflow.decorator.js';
export * from './activity.decorator.js';
export type { WorkflowOptions, ActivityOptions, ActivityCallOptions, LocalActivityOptions, CompensatedBy } from './metadata.js';
