import type { Type } from '../types.js';
import { checkTaskQueueName } from '../task-queue-name.js';
import { DuplicateRegistrationError, InvalidWorkflowClassError } from '../errors/library.errors.js';
import {
  ACTIVITIES_METADATA,
  ACTIVITY_METADATA,
  QUERIES_METADATA,
  SIGNALS_METADATA,
  UPDATES_METADATA,
  WORKFLOW_METADATA,
  WORKFLOW_PARAMS_METADATA,
  WORKFLOW_RUN_METADATA,
  type ActivityMetadata,
  type UpdateHandlerMetadata,
  type WorkflowMetadata,
  type WorkflowVersioning,
} from './metadata.js';
import type { ActivitiesOptions } from './activity.decorator.js';
import type { InjectedParamOptions } from './injection.decorator.js';
import { declarationProblem, type SearchAttributeDeclarations } from '../search/search-attributes.js';
import { checkConcurrency, FlowLimitCatalog, type CheckedConcurrency } from '../flow/flow-options.js';
import { activityLimitsOf, type ActivityLimits } from '../flow/activity-flow.js';

/** One workflow constructor parameter: the `@Activities` class whose durable proxy it receives. */
export interface InjectedActivities extends InjectedParamOptions {
  activities: Type<object>;
}

/** A registered workflow class. */
export interface WorkflowDefinition {
  name: string;
  taskQueue: string;
  cls: Type<object>;
  runMethod: string;
  /** Signal name → method. */
  signals: Record<string, string>;
  /** Query name → method. */
  queries: Record<string, string>;
  /** Update name → method and validator. */
  updates: Record<string, UpdateHandlerMetadata>;
  /** The constructor's parameters, in order: each an activities proxy. */
  inject: InjectedActivities[];
  /** `@Workflow({ searchAttributes })`: the search attributes it may carry. */
  searchAttributes: SearchAttributeDeclarations;
  /** `@Workflow({ concurrency })`, checked (an InvalidOptionsError stops the app at registration). */
  concurrency?: CheckedConcurrency;
  /** `@Workflow({ versioning })`, checked; absent: the module's `defaultVersioning`. */
  versioning?: WorkflowVersioning;
}

/** A registered activity: the provider instance and the method to call. */
export interface ActivityDefinition {
  name: string;
  instance: object;
  methodName: string;
  options: ActivityMetadata;
  /** `@Activities({ taskQueue })` of the class, if set. */
  classTaskQueue?: string;
  /** Its `concurrency` and `rateLimit`, checked at registration. */
  limits?: ActivityLimits;
}

/** Reads `@Workflow` metadata; throws when the class is not a workflow. */
export function workflowDefinitionOf(cls: Type<object>): WorkflowDefinition {
  const meta = Reflect.getMetadata(WORKFLOW_METADATA, cls) as WorkflowMetadata | undefined;
  if (!meta) throw new InvalidWorkflowClassError(`${cls.name} is not a workflow: decorate it with @Workflow()`);
  const runMethod = Reflect.getMetadata(WORKFLOW_RUN_METADATA, cls) as string | undefined;
  if (!runMethod)
    throw new InvalidWorkflowClassError(
      `Workflow ${cls.name} has no @WorkflowRun() method: mark the method that runs it`,
    );
  const inject = constructorInjection(cls);
  for (const p of inject) if (p.local) refuseLimitedLocal(cls, p.activities);
  const signals = (Reflect.getMetadata(SIGNALS_METADATA, cls) ?? {}) as Record<string, string>;
  const queries = (Reflect.getMetadata(QUERIES_METADATA, cls) ?? {}) as Record<string, string>;
  const updates = (Reflect.getMetadata(UPDATES_METADATA, cls) ?? {}) as Record<string, UpdateHandlerMetadata>;
  checkTaskQueueName(meta.taskQueue, `@Workflow of ${cls.name}`);
  const searchAttributes = meta.searchAttributes ?? {};
  const problem = declarationProblem(searchAttributes);
  if (problem) throw new InvalidWorkflowClassError(`@Workflow of ${cls.name}: ${problem}`);
  const concurrency =
    meta.concurrency === undefined
      ? undefined
      : checkConcurrency(meta.concurrency, `@Workflow of ${cls.name}`, meta.name);
  if (meta.versioning !== undefined && meta.versioning !== 'pinned' && meta.versioning !== 'auto-upgrade')
    throw new InvalidWorkflowClassError(
      `@Workflow of ${cls.name}: versioning must be 'pinned' or 'auto-upgrade' (got ${JSON.stringify(meta.versioning)})`,
    );
  return {
    name: meta.name,
    taskQueue: meta.taskQueue,
    cls,
    runMethod,
    signals,
    queries,
    updates,
    inject,
    searchAttributes,
    ...(concurrency ? { concurrency } : {}),
    ...(meta.versioning !== undefined ? { versioning: meta.versioning as WorkflowVersioning } : {}),
  };
}

/**
 * The name a signal, query or update handler is registered under, looked up by that name or by
 * its method's name (a typed handle names handlers by method); undefined when there is none.
 */
export function handlerNamed(handlers: Record<string, string | { method: string }>, name: string): string | undefined {
  if (name in handlers) return name;
  return Object.keys(handlers).find((key) => {
    const h = handlers[key];
    return (typeof h === 'string' ? h : h.method) === name;
  });
}

/** `@Activity` metadata of one method of an `@Activities` class, if it has any. */
export function activityMetadataOf(cls: Type<object>, methodName: string): ActivityMetadata | undefined {
  return Reflect.getMetadata(ACTIVITY_METADATA, cls.prototype, methodName) as ActivityMetadata | undefined;
}

/** Workflows and activities known to this process, by name. */
export class DurableRegistry {
  readonly workflows = new Map<string, WorkflowDefinition>();
  readonly activities = new Map<string, ActivityDefinition>();
  /** Flow limits by name: one name is one limit, whoever declares it. */
  readonly limits = new FlowLimitCatalog();

  /** Decorator-free twin of `@Workflow`: registers a workflow class. */
  addWorkflow(cls: Type<object>): WorkflowDefinition {
    const def = workflowDefinitionOf(cls);
    const existing = this.workflows.get(def.name);
    if (existing && existing.cls !== cls) {
      throw new DuplicateRegistrationError(
        `Two workflows are named '${def.name}' (${existing.cls.name} and ${cls.name}): give one a different @Workflow({ name })`,
      );
    }
    for (const [name, type] of Object.entries(def.searchAttributes)) {
      const other = [...this.workflows.values()].find(
        (w) => w.name !== def.name && w.searchAttributes[name] !== undefined && w.searchAttributes[name] !== type,
      );
      if (other) {
        throw new DuplicateRegistrationError(
          `Search attribute '${name}' is declared as '${type}' by ${cls.name} and as '${other.searchAttributes[name]}' by ${other.cls.name}: a name shares one index per prefix, so give it one type (or rename one)`,
        );
      }
    }
    if (def.concurrency && existing?.cls !== cls)
      this.limits.declare('concurrency', def.concurrency, `@Workflow of ${cls.name}`);
    this.workflows.set(def.name, def);
    return def;
  }

  /** Registers every `@Activity` method of a provider instance. */
  addActivities(instance: object, methodNames: string[]): void {
    const cls = instance.constructor as Type<object>;
    const classOptions = (Reflect.getMetadata(ACTIVITIES_METADATA, cls) ?? {}) as ActivitiesOptions;
    for (const methodName of methodNames) {
      const options = activityMetadataOf(cls, methodName);
      if (!options) continue;
      const existing = this.activities.get(options.name);
      if (existing && existing.instance !== instance) {
        throw new DuplicateRegistrationError(
          `Two activities are named '${options.name}' (${existing.instance.constructor.name}.${existing.methodName} and ${cls.name}.${methodName}): give one a different @Activity({ name })`,
        );
      }
      for (const q of [options.taskQueue, classOptions.taskQueue])
        if (q !== undefined) checkTaskQueueName(q, `@Activities/@Activity of ${cls.name}.${methodName}`);
      const where = `@Activity of ${cls.name}.${methodName}`;
      const limits = activityLimitsOf(options, where, options.name);
      if (limits?.concurrency) this.limits.declare('concurrency', limits.concurrency, where);
      if (limits?.rate) this.limits.declare('rateLimit', limits.rate, where);
      this.activities.set(options.name, {
        name: options.name,
        instance,
        methodName,
        options,
        classTaskQueue: classOptions.taskQueue,
        ...(limits ? { limits } : {}),
      });
    }
  }

  /**
   * Refuses, at boot, a workflow this process runs whose constructor takes an `@Activities`
   * class that is not a provider here, when that class's activities would run here: as local
   * activities (always in the workflow task), or queued on a task queue `served` lists. Every
   * attempt would fail with "not registered on this worker" otherwise. Activities routed to a
   * task queue this process does not serve (another service's) need no provider here.
   */
  checkInjectedActivities(served: string[]): void {
    for (const def of this.workflows.values()) {
      if (!served.includes(def.taskQueue)) continue;
      for (const injected of def.inject) {
        const cls = injected.activities;
        const callQueue = injected.local ? undefined : (injected.options as { taskQueue?: string }).taskQueue;
        const classQueue = (Reflect.getMetadata(ACTIVITIES_METADATA, cls) as ActivitiesOptions | undefined)?.taskQueue;
        // By activity name, as a worker finds them: the provider may be another class with the same
        // activities (a subclass given with useClass, an override in a test).
        const queues = activityMethodNames(cls)
          .filter((m) => !this.activities.has(activityMetadataOf(cls, m)!.name))
          .map((m) => callQueue ?? activityMetadataOf(cls, m)?.taskQueue ?? classQueue ?? def.taskQueue);
        const runsHere = injected.local ? queues.length > 0 : queues.some((q) => served.includes(q));
        if (!runsHere) continue;
        throw new InvalidWorkflowClassError(
          `Workflow ${def.cls.name} takes ${cls.name} in its constructor, but ${cls.name} is not a provider of this app, ` +
            `so its activities (${injected.local ? 'local activities, run in the workflow task' : `task queue '${queues.find((q) => served.includes(q))}', served here`}) ` +
            `would fail on every attempt: add ${cls.name} to a module's providers (as in @Module({ imports: [DurableModule.forFeature([${def.cls.name}])], providers: [${cls.name}] }))`,
        );
      }
    }
  }

  /** Task queues this process can serve: those of its workflows and activity classes. */
  taskQueues(): string[] {
    const queues = new Set<string>();
    for (const w of this.workflows.values()) queues.add(w.taskQueue);
    for (const a of this.activities.values())
      if (a.options.taskQueue ?? a.classTaskQueue) queues.add((a.options.taskQueue ?? a.classTaskQueue)!);
    return [...queues];
  }
}

/** The `@Activity` methods of an `@Activities` class, its base classes' included. */
function activityMethodNames(cls: Type<object>): string[] {
  const names = new Set<string>();
  for (
    let proto = cls.prototype as object | null;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  )
    for (const name of Object.getOwnPropertyNames(proto)) if (activityMetadataOf(cls, name)) names.add(name);
  return [...names];
}

/**
 * The library creates a workflow instance per execution itself, passing each constructor
 * parameter the durable proxy of its `@Activities` class. Any other parameter (a service, a
 * repository, a config) is refused: workflow code must be deterministic, so its I/O belongs
 * in activities.
 */
function constructorInjection(cls: Type<object>): InjectedActivities[] {
  const types = (Reflect.getMetadata('design:paramtypes', cls) ?? []) as unknown[];
  const count = Math.max(types.length, cls.length);
  const options = (Reflect.getMetadata(WORKFLOW_PARAMS_METADATA, cls) ?? {}) as Record<number, InjectedParamOptions>;
  const names =
    /constructor\s*\(([^)]*)\)/
      .exec(Function.prototype.toString.call(cls))?.[1]
      .split(',')
      .map((p) => p.trim().replace(/[=\s].*$/, ''))
      .filter(Boolean) ?? [];
  const inject: InjectedActivities[] = [];
  for (let i = 0; i < count; i++) {
    const type = types[i] as Type<object> | undefined;
    if (typeof type === 'function' && Reflect.getMetadata(ACTIVITIES_METADATA, type)) {
      inject.push({ activities: type, ...(options[i] ?? { local: false, options: {} }) });
      continue;
    }
    const typeName = typeof type === 'function' && type.name ? type.name : undefined;
    const why =
      typeof type === 'function'
        ? `${typeName ?? 'its type'} is not an @Activities class`
        : 'its type is not known at run time (compile with emitDecoratorMetadata, and import the class as a value, not `import type`)';
    throw new InvalidWorkflowClassError(
      `Workflow ${cls.name} has a constructor parameter '${names[i] ?? `#${i + 1}`}'${typeName ? ` (${typeName})` : ''} that cannot be injected: ${why}. ` +
        'A workflow constructor may only take @Activities classes, each of which receives a durable proxy (as proxyActivities returns). ' +
        'Workflow code must be deterministic: do I/O inside activities, and pass other values as workflow arguments',
    );
  }
  return inject;
}

/**
 * A local activity runs inside the workflow task, with no queue to wait in, so a flow limit
 * could not hold: a workflow injecting a class with limited activities as local ones stops the app.
 */
function refuseLimitedLocal(cls: Type<object>, activities: Type<object>): void {
  for (const method of Object.getOwnPropertyNames(activities.prototype)) {
    const meta = activityMetadataOf(activities, method);
    if (meta?.concurrency === undefined && meta?.rateLimit === undefined) continue;
    throw new InvalidWorkflowClassError(
      `Workflow ${cls.name} injects ${activities.name} as local activities (@LocalActivityOptions), but ${activities.name}.${method} has a ` +
        `${meta.concurrency !== undefined ? 'concurrency' : 'rate'} limit, which a local activity cannot wait for: inject it without @LocalActivityOptions, or remove the limit`,
    );
  }
}
