export * from './workflow.decorator.js';
export * from './activity.decorator.js';
export type { WorkflowOptions, ActivityOptions, ActivityCallOptions, CompensatedBy } from './metadata.js';
