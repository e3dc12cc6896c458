import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { Type } from '@nestjs/common';
import { ACTIVITIES_METADATA, WORKFLOW_METADATA } from '../core/definitions/metadata.js';
import { DurableRuntime } from '../runtime.js';
import { WorkflowClasses } from '../core/definitions/workflow-classes.js';
import { checkArgumentTypesKnown } from '../client/input-validation.js';
import { OPTION_SCHEMAS } from '../options.js';

/** Finds `@Workflow` classes and `@Activities` providers at bootstrap and registers them. */
@Injectable()
export class DurableExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly runtime: DurableRuntime,
  ) {}

  async onModuleInit(): Promise<void> {
    try {
      this.register();
    } catch (err) {
      await this.runtime.close(); // the app will not start: do not leave connections open
      throw err;
    }
  }

  private register(): void {
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.instance instanceof WorkflowClasses)
        for (const cls of wrapper.instance.classes) this.runtime.registry.addWorkflow(cls);
      const metatype = wrapper.metatype as Type<object> | undefined;
      if (!metatype || typeof metatype !== 'function' || !wrapper.isDependencyTreeStatic()) continue;
      if (Reflect.getMetadata(WORKFLOW_METADATA, metatype)) this.runtime.registry.addWorkflow(metatype);
      if (Reflect.getMetadata(ACTIVITIES_METADATA, metatype) && wrapper.instance) {
        const instance = wrapper.instance as object;
        this.runtime.registry.addActivities(instance, this.scanner.getAllMethodNames(Object.getPrototypeOf(instance)));
      }
    }
    // Once every provider is in: a workflow this process runs must find its injected activities here,
    // and DTO arguments must be validated (their types known).
    const { registry } = this.runtime;
    if (this.runtime.options.worker) registry.checkInjectedActivities(this.runtime.servedTaskQueues());
    for (const def of registry.workflows.values()) checkArgumentTypesKnown(def, OPTION_SCHEMAS);
  }
}
