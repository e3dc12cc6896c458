import {
  Global, Inject, Injectable, Module,
  type BeforeApplicationShutdown, type DynamicModule, type InjectionToken, type ModuleMetadata, type OnApplicationBootstrap, type OptionalFactoryDependency,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { WorkflowClient } from '../client/workflow-client.js';
import { DurableExplorer } from '../discovery/durable.explorer.js';
import { DURABLE_OPTIONS, DURABLE_RAW_OPTIONS } from './durable.constants.js';
import { resolveDurableOptions, type DurableModuleOptions, type ResolvedDurableOptions } from './durable-options.js';
import { DurableRuntime } from './durable-runtime.js';

/** Options of {@link DurableModule.forRootAsync}. */
export interface DurableModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => DurableModuleOptions | Promise<DurableModuleOptions>;
  inject?: (InjectionToken | OptionalFactoryDependency)[];
}

/**
 * Starts the workers once every module is initialised. On shutdown it drains them in
 * `beforeApplicationShutdown`: Nest runs every module's `onModuleDestroy` first, so close
 * what your activities use in `onApplicationShutdown`, which runs after the drain.
 */
@Injectable()
class DurableLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(DurableRuntime) private readonly runtime: DurableRuntime) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runtime.start();
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

  static forRootAsync(options: DurableModuleAsyncOptions): DynamicModule {
    return DurableModule.build(
      [{ provide: DURABLE_RAW_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }],
      options.imports ?? [],
    );
  }

  private static build(rawProvider: DynamicModule['providers'], imports: ModuleMetadata['imports']): DynamicModule {
    return {
      module: DurableModule,
      global: true,
      imports: [DiscoveryModule, ...(imports ?? [])],
      providers: [
        ...(rawProvider ?? []),
        { provide: DURABLE_OPTIONS, useFactory: (raw: DurableModuleOptions) => resolveDurableOptions(raw), inject: [DURABLE_RAW_OPTIONS] },
        { provide: DurableRuntime, useFactory: (opts: ResolvedDurableOptions) => new DurableRuntime(opts), inject: [DURABLE_OPTIONS] },
        { provide: WorkflowClient, useFactory: (runtime: DurableRuntime) => new WorkflowClient(runtime), inject: [DurableRuntime] },
        DurableExplorer,
        DurableLifecycle,
      ],
      exports: [WorkflowClient, DurableRuntime, DURABLE_OPTIONS],
    };
  }
}
