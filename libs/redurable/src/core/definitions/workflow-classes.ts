import type { Type } from '../types.js';

/** The workflow classes one `DurableModule.forFeature([...])` registers; the explorer finds it among the providers. */
export class WorkflowClasses {
  constructor(readonly classes: readonly Type<object>[]) {}
}
