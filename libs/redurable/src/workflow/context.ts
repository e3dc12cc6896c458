import { AsyncLocalStorage } from 'node:async_hooks';
import { NotInWorkflowContextError } from '../core/errors/library.errors.js';
import type { WorkflowActivation } from './activation.js';

/** The workflow execution whose code is running now, carried across awaits. */
export const workflowStorage = new AsyncLocalStorage<WorkflowActivation>();

/** The running workflow's activation, or a NotInWorkflowContextError naming the API used. */
export function currentActivation(api: string): WorkflowActivation {
  const activation = workflowStorage.getStore();
  if (!activation) throw new NotInWorkflowContextError(api);
  return activation;
}

/** True while `saga.compensate()` runs: activities scheduled in it are marked as compensations. */
export const compensationScope = new AsyncLocalStorage<boolean>();
