export * from './workflow.decorator.js';
export * from './activity.decorator.js';
export { ActivityOptions, LocalActivityOptions } from './injection.decorator.js';
export type {
  WorkflowOptions,
  WorkflowVersioning,
  ActivityCallOptions,
  CompensatedBy,
  UpdateOptions,
  UpdateValidator,
} from './metadata.js';
export { Schedule, type ScheduleDecoratorOptions } from './schedule.decorator.js';
