import type { WorkflowDefinition } from '../core/definitions/registry.js';
import type { LocalActivityOptions } from '../core/definitions/metadata.js';
import { proxyActivities, proxyLocalActivities } from './workflow-api.js';

/** The constructor arguments of each workflow class: proxies hold no state, so one set serves every execution. */
const argumentsOf = new WeakMap<WorkflowDefinition, object[]>();

/** A new instance of the workflow class for one execution, its `@Activities` parameters given their durable proxies. */
export function createWorkflowInstance(definition: WorkflowDefinition): Record<string, (...a: unknown[]) => unknown> {
  let args = argumentsOf.get(definition);
  if (!args) {
    args = definition.inject.map((p) =>
      p.local
        ? proxyLocalActivities(p.activities, p.options as LocalActivityOptions)
        : proxyActivities(p.activities, p.options),
    );
    argumentsOf.set(definition, args);
  }
  return new definition.cls(...args) as Record<string, (...a: unknown[]) => unknown>;
}
