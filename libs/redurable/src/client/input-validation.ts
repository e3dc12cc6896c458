import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { WorkflowDefinition } from '../core/definitions/registry.js';
import { WorkflowInputValidationError } from '../core/errors/library.errors.js';

export { WorkflowInputValidationError };

const PLAIN_TYPES = new Set<unknown>([Object, String, Number, Boolean, Array, Date, Promise, Function, undefined]);

function messages(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((e) => {
    const at = path ? `${path}.${e.property}` : e.property;
    return [
      ...Object.values(e.constraints ?? {}).map((m) =>
        m.startsWith(e.property) ? `${at}${m.slice(e.property.length)}` : `${at}: ${m}`,
      ),
      ...messages(e.children ?? [], at),
    ];
  });
}

/**
 * Validates the arguments of a workflow whose `@WorkflowRun` parameters are class-validator
 * DTO classes (read from TypeScript's emitted parameter types), before anything is written.
 */
export function validateWorkflowInput(def: WorkflowDefinition, args: unknown[]): void {
  const types = (Reflect.getMetadata('design:paramtypes', def.cls.prototype, def.runMethod) ?? []) as unknown[];
  types.forEach((type, i) => {
    if (PLAIN_TYPES.has(type) || typeof type !== 'function' || args[i] === null || typeof args[i] !== 'object') return;
    const instance = plainToInstance(type as new () => object, args[i]);
    const errors = validateSync(instance as object, { forbidUnknownValues: false });
    if (errors.length) throw new WorkflowInputValidationError(def.name, i + 1, messages(errors));
  });
}
