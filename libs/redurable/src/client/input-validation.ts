import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import type { WorkflowDefinition } from '../core/definitions/registry.js';
import { InvalidWorkflowClassError, WorkflowInputValidationError } from '../core/errors/library.errors.js';

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

/**
 * Whether classes other than `ignore` (the library's own option schemas) carry class-validator
 * rules, that is whether the app validates DTOs. class-validator keeps its rules in one global
 * store keyed by class (0.14 and later); should a version store them otherwise, the answer is
 * yes, so that a missing check errs towards telling the user.
 */
function appDeclaresValidationRules(ignore: readonly unknown[]): boolean {
  const store = getMetadataStorage() as unknown as { validationMetadatas?: unknown };
  if (!(store.validationMetadatas instanceof Map)) return true;
  return [...store.validationMetadatas.keys()].some((target) => !ignore.includes(target));
}

/**
 * Stops the app at boot when its workflow's `@WorkflowRun`, `@Signal` or `@Update` methods take
 * parameters but carry no `design:paramtypes` (the app is compiled without
 * `emitDecoratorMetadata`) while the app declares class-validator rules: a DTO argument would
 * then never be validated, and a class argument would arrive as a plain object, silently.
 * An app without class-validator rules, and methods without parameters, are left alone.
 */
export function checkArgumentTypesKnown(def: WorkflowDefinition, librarySchemas: readonly unknown[]): void {
  const proto = def.cls.prototype as Record<string, unknown>;
  const methods = [
    { method: def.runMethod, decorator: '@WorkflowRun' },
    ...Object.values(def.signals).map((method) => ({ method, decorator: '@Signal' })),
    ...Object.values(def.updates).map((u) => ({ method: u.method, decorator: '@Update' })),
  ];
  const untyped = methods.filter(({ method }) => {
    const fn = proto[method];
    return typeof fn === 'function' && fn.length > 0 && !Reflect.getMetadata('design:paramtypes', proto, method);
  });
  if (untyped.length === 0 || !appDeclaresValidationRules(librarySchemas)) return;
  throw new InvalidWorkflowClassError(
    `Workflow ${def.cls.name}: the parameter types of ${untyped.map((u) => `${u.method}() (${u.decorator})`).join(', ')} are not known at run time, ` +
      'so a class-validator DTO argument would not be validated and a class argument would arrive as a plain object. ' +
      'The app is compiled without decorator metadata: set "emitDecoratorMetadata": true (with "experimentalDecorators": true) in tsconfig.json ' +
      '(with SWC, jsc.transform.decoratorMetadata: true; esbuild, tsx and Vite do not emit it)',
  );
}
