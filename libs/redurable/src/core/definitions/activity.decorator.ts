import { ACTIVITIES_METADATA, ACTIVITY_METADATA, type ActivityMetadata, type ActivityOptions } from './metadata.js';

/** Options of {@link Activities}. */
export interface ActivitiesOptions {
  /** Default task queue of this class's activities. @default the calling workflow's task queue */
  taskQueue?: string;
}

/**
 * Marks a Nest provider whose `@Activity` methods can be called from workflows. It is an
 * ordinary provider: constructor injection works as usual.
 */
export function Activities(options: ActivitiesOptions = {}): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(ACTIVITIES_METADATA, options, target);
  };
}

/**
 * Marks a method as an activity: run as a BullMQ job, retried per its policy, its result
 * recorded in the calling workflow's history.
 *
 * @example
 * @Activity({ retry: { maximumAttempts: 5 }, startToCloseTimeout: '30s' })
 * async withdraw(input: WithdrawDto): Promise<string> { ... }
 */
export function Activity(options: ActivityOptions = {}): MethodDecorator {
  return (target, propertyKey) => {
    const meta: ActivityMetadata = { ...options, name: options.name ?? String(propertyKey) };
    Reflect.defineMetadata(ACTIVITY_METADATA, meta, target, propertyKey);
  };
}
