import { InvalidOptionsError } from '../errors/library.errors.js';
import type { WorkflowVersioning } from './metadata.js';
import type { WorkflowDefinition } from './registry.js';

/** A type's versioning: its own, else the module's default, else auto-upgrade. */
export function versioningOf(
  def: Pick<WorkflowDefinition, 'versioning'>,
  fallback?: WorkflowVersioning,
): WorkflowVersioning {
  return def.versioning ?? fallback ?? 'auto-upgrade';
}

/**
 * Refuses, at a worker's boot, pinned types it serves without a `buildId`: a pinned run goes to
 * the workers of its build, so a worker must have one (else its runs would be pinned to nothing).
 */
export function refuseUnbuiltPins(
  types: WorkflowDefinition[],
  served: string[],
  options: { buildId?: string; defaultVersioning?: WorkflowVersioning },
): void {
  if (options.buildId !== undefined) return;
  const pinned = types.filter(
    (t) => served.includes(t.taskQueue) && versioningOf(t, options.defaultVersioning) === 'pinned',
  );
  if (pinned.length === 0) return;
  const how =
    options.defaultVersioning === 'pinned' ? "defaultVersioning: 'pinned'" : "@Workflow({ versioning: 'pinned' })";
  throw new InvalidOptionsError(
    `Invalid DurableModule options: workflow type(s) ${pinned.map((t) => `'${t.name}'`).join(', ')} are pinned (${how}), which needs the module option buildId ` +
      '(the build a pinned run stays on, such as the image tag): set buildId, or make the types auto-upgrade',
  );
}
