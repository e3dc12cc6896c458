import {
  QUERIES_METADATA,
  SIGNALS_METADATA,
  UPDATES_METADATA,
  WORKFLOW_METADATA,
  WORKFLOW_RUN_METADATA,
  type UpdateHandlerMetadata,
  type UpdateOptions,
  type UpdateValidator,
  type WorkflowMetadata,
  type WorkflowOptions,
} from './metadata.js';

/**
 * Marks a class as a workflow: a new instance runs each execution, and its `@WorkflowRun`
 * method is the workflow's body. List the class in a module's `providers` so it is discovered.
 *
 * @example
 * @Workflow({ taskQueue: 'transfers' })
 * export class TransferWorkflow {
 *   private readonly bank = proxyActivities(BankActivities);
 *   @WorkflowRun() async run(input: TransferDto) { await this.bank.withdraw(input); }
 * }
 */
export function Workflow(options: WorkflowOptions = {}): ClassDecorator {
  return (target) => {
    const meta: WorkflowMetadata = {
      name: options.name ?? target.name,
      taskQueue: options.taskQueue ?? 'default',
      searchAttributes: { ...options.searchAttributes },
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.versioning !== undefined ? { versioning: options.versioning } : {}),
    };
    Reflect.defineMetadata(WORKFLOW_METADATA, meta, target);
  };
}

/** Marks the method that runs the workflow. Its arguments are the `args` given to `start()`. */
export function WorkflowRun(): MethodDecorator {
  return (target, propertyKey) => {
    Reflect.defineMetadata(WORKFLOW_RUN_METADATA, propertyKey, target.constructor);
  };
}

function handlerDecorator(key: string, name?: string): MethodDecorator {
  return (target, propertyKey) => {
    const existing = (Reflect.getMetadata(key, target.constructor) ?? {}) as Record<string, string>;
    Reflect.defineMetadata(
      key,
      { ...existing, [name ?? String(propertyKey)]: String(propertyKey) },
      target.constructor,
    );
  };
}

/**
 * Marks a signal handler: `handle.signal(name, ...args)` records the signal in the history and
 * this method runs with those arguments. It may change the workflow's state (see `condition`).
 */
export function Signal(name?: string): MethodDecorator {
  return handlerDecorator(SIGNALS_METADATA, name);
}

/**
 * Marks a read-only query handler: `handle.query(name, ...args)` replays the history in the
 * caller's process and returns what this method returns, even when no worker runs.
 */
export function Query(name?: string): MethodDecorator {
  return handlerDecorator(QUERIES_METADATA, name);
}

/**
 * Marks an update handler: `handle.executeUpdate(name, ...args)` records the update (after its
 * `validator`, if any, accepted it), the method runs in the workflow with those arguments, may
 * change state and await durable calls, and what it returns (or throws) is recorded and
 * handed to the caller. An accepted update survives worker crashes and completes once.
 *
 * @example
 * @Update({ validator(limit: number) { if (limit <= 0) throw new Error('the limit must be positive'); } })
 * async changeLimit(limit: number): Promise<number> { const old = this.limit; this.limit = limit; return old; }
 */
export function Update<V extends UpdateValidator = UpdateValidator>(
  options: UpdateOptions<V> = {},
): UpdateDecorator<V> {
  const decorator = (target: object, propertyKey: string | symbol): void => {
    const existing = (Reflect.getMetadata(UPDATES_METADATA, target.constructor) ?? {}) as Record<
      string,
      UpdateHandlerMetadata
    >;
    const handler: UpdateHandlerMetadata = {
      method: String(propertyKey),
      ...(options.validator ? { validator: options.validator as (...args: unknown[]) => void } : {}),
    };
    Reflect.defineMetadata(
      UPDATES_METADATA,
      { ...existing, [options.name ?? String(propertyKey)]: handler },
      target.constructor,
    );
  };
  return decorator as UpdateDecorator<V>;
}

/**
 * What `@Update` returns: a method decorator that checks the validator against the method it
 * decorates. TypeScript types a decorator factory's arguments before it sees the method, so the
 * check is the decorator's return type: void when the validator accepts the handler's
 * arguments, else a message, which TypeScript reports at the decorator.
 */
export type UpdateDecorator<V extends UpdateValidator> = <M extends (...args: never[]) => unknown>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => UpdateCheck<V, M>;

/** void when validator `V` can be called with handler `M`'s arguments. */
export type UpdateCheck<V extends UpdateValidator, M> = M extends (...args: infer A) => unknown
  ? [V] extends [(this: never, ...args: A) => void]
    ? void
    : { error: "the validator's parameters do not match the update handler's: give it the handler's parameter types" }
  : void;
