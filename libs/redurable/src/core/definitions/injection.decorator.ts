import {
  WORKFLOW_PARAMS_METADATA,
  type ActivityCallOptions,
  type ActivityOptions as ActivityOptionsShape,
  type LocalActivityOptions as LocalOptions,
} from './metadata.js';

/** Options of `@Activity` (the decorator of the same name marks a workflow constructor parameter). */
export type ActivityOptions = ActivityOptionsShape;
/** Options of `proxyLocalActivities` (the decorator of the same name marks a workflow constructor parameter). */
export type LocalActivityOptions = LocalOptions;

/** How one workflow constructor parameter's proxy is made: its options, and whether its calls run as local activities. */
export interface InjectedParamOptions {
  local: boolean;
  options: ActivityCallOptions | LocalOptions;
}

function paramDecorator(param: InjectedParamOptions): ParameterDecorator {
  return (target, propertyKey, index) => {
    if (propertyKey !== undefined) return; // only constructor parameters are injected
    const existing = (Reflect.getMetadata(WORKFLOW_PARAMS_METADATA, target) ?? {}) as Record<
      number,
      InjectedParamOptions
    >;
    Reflect.defineMetadata(WORKFLOW_PARAMS_METADATA, { ...existing, [index]: param }, target);
  };
}

/**
 * Options of the activities proxy injected into this workflow constructor parameter (the
 * parameter's type is an `@Activities` class): the same as `proxyActivities(Class, options)`.
 * Without it the parameter gets the activities' own `@Activity` options.
 *
 * @example
 * constructor(@ActivityOptions({ startToCloseTimeout: '10s' }) private readonly fx: FxActivities) {}
 */
export function ActivityOptions(options: ActivityCallOptions): ParameterDecorator {
  return paramDecorator({ local: false, options });
}

/**
 * Injects this workflow constructor parameter (an `@Activities` class) as a local-activities
 * proxy: the same as `proxyLocalActivities(Class, options)`.
 *
 * @example
 * constructor(@LocalActivityOptions({ startToCloseTimeout: '2s' }) private readonly rates: RatesActivities) {}
 */
export function LocalActivityOptions(options: LocalOptions = {}): ParameterDecorator {
  return paramDecorator({ local: true, options });
}
