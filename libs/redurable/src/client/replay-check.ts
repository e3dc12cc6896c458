import { NonDeterminismError } from '../core/errors/library.errors.js';
import { ReplayCheckError } from '../core/errors/replay-check.errors.js';
import type { WorkflowDefinition } from '../core/definitions/registry.js';
import { isCommandEvent } from '../core/events.js';
import type { HistoryReader, Logger } from '../core/ports/index.js';
import { withDeterminism } from '../workflow/determinism.js';
import { replayRun, type ReplayParts } from './replay-run.js';
import { listWorkflows, type ListingSources } from './workflow-listing.js';

/** What the replay gate reads. */
export type ReplayCheckParts = ReplayParts &
  ListingSources & { histories: Pick<HistoryReader, 'getMetas' | 'readEntries'>; logger: Logger };

/** What replaying running histories found. */
export interface ReplayCheckReport {
  replayed: number;
  divergences: NonDeterminismError[];
}

/**
 * Replays, with this process's code, the histories of up to `perType` of the most recently
 * started running workflows of each of `types` that recorded a step (nothing is written; no activity runs). Returns
 * the NonDeterminismError of each that does not replay. A history that cannot be replayed for
 * another reason (a payload this process cannot decode, a run closed meanwhile) is logged and
 * skipped: it says nothing about the code.
 */
export async function checkReplays(
  parts: ReplayCheckParts,
  types: WorkflowDefinition[],
  perType: number,
): Promise<ReplayCheckReport> {
  const report: ReplayCheckReport = { replayed: 0, divergences: [] };
  for (const definition of types) {
    const { workflows } = await listWorkflows(parts, { type: definition.name, status: 'running', limit: perType });
    for (const { workflowId, runId } of workflows) {
      const entries = await parts.histories.readEntries(workflowId, runId);
      // A run whose first task has not committed has nothing to diverge from (and its code must
      // not run here ahead of its task): only runs with recorded steps are checked.
      if (!entries.some(({ event }) => isCommandEvent(event))) continue;
      report.replayed++;
      try {
        await withDeterminism(() => replayRun(parts, definition, entries));
      } catch (err) {
        if (err instanceof NonDeterminismError) report.divergences.push(err);
        else
          parts.logger.warn(
            `Replay check: skipped workflow ${workflowId} (run ${runId}, type '${definition.name}'): ${(err as Error).message}`,
          );
      }
    }
  }
  return report;
}

/** The replay gate's settings (module option `replayCheck`). */
export interface ReplayGateSettings {
  perType: number;
  onFailure: 'fail' | 'warn';
}

/**
 * The replay gate of a worker's boot: checks the running workflows of the `types` it serves
 * (see checkReplays) before it takes any task; on a divergence throws a ReplayCheckError naming
 * each (or, with `onFailure: 'warn'`, logs it and goes on).
 */
export async function replayGate(
  parts: ReplayCheckParts,
  types: WorkflowDefinition[],
  settings: ReplayGateSettings,
): Promise<void> {
  const report = await checkReplays(parts, types, settings.perType);
  if (report.divergences.length === 0) {
    if (report.replayed > 0)
      parts.logger.log(`Replay check: the code replays the ${report.replayed} running histories it looked at`);
    return;
  }
  const error = new ReplayCheckError(
    report.divergences,
    report.replayed,
    'running workflows of the types this worker serves',
  );
  if (settings.onFailure === 'fail') throw error;
  parts.logger.warn(`${error.message}\n(replayCheck.onFailure is 'warn': the worker starts anyway)`);
}
