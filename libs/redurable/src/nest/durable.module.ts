import {
  Global,
  Logger,
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OnApplicationBootstrap,
  type OnModuleInit,
  type OptionalFactoryDependency,
  type Provider,
  type Type,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { WorkflowClient } from '../client/workflow-client.js';
import { DurableExplorer } from './durable.explorer.js';
import { InvalidOptionsError } from '../core/errors/library.errors.js';
import { DURABLE_OPTIONS, DURABLE_RAW_OPTIONS } from './durable.constants.js';
import { resolveDurableOptions, type DurableModuleOptions, type ResolvedDurableOptions } from '../options.js';
import { DurableRuntime } from '../runtime.js';
import { DurableQueues } from '../queues/durable-queues.js';
import { WorkflowClasses } from '../core/definitions/workflow-classes.js';

/** A class that builds the module's options, for `forRootAsync({ useClass })` or `{ useExisting }`. */
export interface DurableOptionsFactory {
  createDurableOptions(): DurableModuleOptions | Promise<DurableModuleOptions>;
}

/**
 * Options of {@link DurableModule.forRootAsync}: exactly one of `useFactory` (with `inject`),
 * `useClass` (instantiated by the module) or `useExisting` (a provider of an imported module).
 */
export interface DurableModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory?: (...args: never[]) => DurableModuleOptions | Promise<DurableModuleOptions>;
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useClass?: Type<DurableOptionsFactory>;
  useExisting?: Type<DurableOptionsFactory>;
}

/**
 * Starts the workers once every module is initialised. On shutdown it drains them in
 * `beforeApplicationShutdown`: Nest runs every module's `onModuleDestroy` first, so close
 * what your activities use in `onApplicationShutdown`, which runs after the drain.
 */
@Injectable()
class DurableLifecycle implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(DurableRuntime) private readonly runtime: DurableRuntime) {}

  /** Fails `app.init()` within `connectTimeout` when Redis is unreachable or evicts keys. */
  async onModuleInit(): Promise<void> {
    try {
      await this.runtime.connect();
    } catch (err) {
      await this.runtime.dispose(); // the app will not start: stop reconnecting
      throw err;
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.runtime.start();
    } catch (err) {
      await this.runtime.dispose(); // a bad @Schedule, say: the app will not start, so stop reconnecting
      throw err;
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runtime.close();
  }
}

/**
 * Durable workflows for a Nest app. Import once, in the root module; `WorkflowClient` is
 * then injectable everywhere, `@Workflow` and `@Activities` providers are discovered, and
 * workers start with the app and drain on shutdown (call `app.enableShutdownHooks()`).
 *
 * @example
 * DurableModule.forRoot({ connection: process.env.REDIS_URL, prefix: 'payments' })
 */
@Global()
@Module({})
export class DurableModule {
  static forRoot(options: DurableModuleOptions): DynamicModule {
    return DurableModule.build([{ provide: DURABLE_RAW_OPTIONS, useValue: options }], []);
  }

  /**
   * Options from other providers, like `@nestjs/bullmq`'s `forRootAsync`.
   *
   * @example
   * DurableModule.forRootAsync({
   *   imports: [ConfigModule],
   *   inject: [ConfigService],
   *   useFactory: (config: ConfigService) => ({ connection: config.get('REDIS_URL') }),
   * })
   */
  static forRootAsync(options: DurableModuleAsyncOptions): DynamicModule {
    return DurableModule.build(asyncOptionsProviders(options), options.imports ?? []);
  }

  /**
   * Registers workflow classes without making them Nest providers: the library creates their
   * instances itself (one per execution, `@Activities` constructor parameters given durable
   * proxies), so Nest need not resolve or create them. Import it in the module that owns the
   * workflows, beside that module's `@Activities` providers. Listing a workflow class in
   * `providers` works too, but then Nest must be able to resolve its constructor's classes,
   * and the instance Nest makes is not used.
   *
   * @example
   * @Module({ imports: [DurableModule.forFeature([TransferWorkflow])], providers: [BankActivities] })
   * export class TransfersModule {}
   */
  static forFeature(workflows: Type<object>[]): DynamicModule {
    return {
      module: DurableFeatureModule,
      providers: [{ provide: Symbol('redurable:workflows'), useValue: new WorkflowClasses(workflows) }],
    };
  }

  private static build(rawProvider: DynamicModule['providers'], imports: ModuleMetadata['imports']): DynamicModule {
    return {
      module: DurableModule,
      global: true,
      imports: [DiscoveryModule, ...(imports ?? [])],
      providers: [
        ...(rawProvider ?? []),
        {
          provide: DURABLE_OPTIONS,
          // In a Nest app the library logs through Nest's Logger (which app.useLogger() reaches) unless given one.
          useFactory: (raw: DurableModuleOptions) =>
            resolveDurableOptions(raw?.logger === undefined && raw ? { ...raw, logger: new Logger() } : raw),
          inject: [DURABLE_RAW_OPTIONS],
        },
        {
          provide: DurableRuntime,
          useFactory: (opts: ResolvedDurableOptions) => new DurableRuntime(opts),
          inject: [DURABLE_OPTIONS],
        },
        {
          provide: WorkflowClient,
          useFactory: (runtime: DurableRuntime) => runtime.client,
          inject: [DurableRuntime],
        },
        {
          provide: DurableQueues,
          useFactory: (runtime: DurableRuntime) => new DurableQueues(runtime.queues, () => runtime.servedTaskQueues()),
          inject: [DurableRuntime],
        },
        DurableExplorer,
        DurableLifecycle,
      ],
      exports: [WorkflowClient, DurableQueues, DurableRuntime, DURABLE_OPTIONS],
    };
  }
}

/** The module `DurableModule.forFeature` returns (one per call; its provider lists the classes). */
@Module({})
class DurableFeatureModule {}

function asyncOptionsProviders(options: DurableModuleAsyncOptions): Provider[] {
  const given = [options.useFactory, options.useClass, options.useExisting].filter(Boolean).length;
  if (given !== 1) {
    throw new InvalidOptionsError(
      `DurableModule.forRootAsync needs exactly one of useFactory, useClass or useExisting (got ${given})`,
    );
  }
  if (options.useFactory)
    return [{ provide: DURABLE_RAW_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }];
  const factoryClass = (options.useClass ?? options.useExisting)!;
  const create = {
    provide: DURABLE_RAW_OPTIONS,
    useFactory: (f: DurableOptionsFactory) => f.createDurableOptions(),
    inject: [factoryClass],
  };
  return options.useClass ? [{ provide: factoryClass, useClass: factoryClass }, create] : [create];
}
