import { CorruptHistoryError, NonDeterminismError, PayloadError } from '../core/errors/library.errors.js';
import { ReplayCheckError } from '../core/errors/replay-check.errors.js';
import type { WorkflowDefinition } from '../core/definitions/registry.js';
import type { HistoryReader, Logger, WorkflowTaskStore } from '../core/ports/index.js';
import { withDeterminism } from '../workflow/determinism.js';
import { replayRun, type ReplayParts } from './replay-run.js';
import type { RedisLink } from '../store/redis-link.js';
import { listWorkflows, type ListingSources } from './workflow-listing.js';

/** What the replay gate reads. */
export type ReplayCheckParts = ReplayParts &
  ListingSources & {
    histories: Pick<HistoryReader, 'getMetas' | 'readEntries'> & Pick<WorkflowTaskStore, 'seenThrough'>;
    logger: Logger;
    /** Bounds each read by `connectTimeout` (a Redis gone mid-check fails the boot instead of hanging it). */
    link: Pick<RedisLink, 'call'>;
  };

/** What replaying running histories found. */
export interface ReplayCheckReport {
  replayed: number;
  divergences: NonDeterminismError[];
}

/** Listing pages read per type at most, looking for runs that recorded a step. */
const MAX_PAGES = 5;

/**
 * Replays, with this process's code, the histories of up to `perType` of the most recently
 * started running workflows of each of `types` on the served `taskQueues` that a committed task
 * has run and that are not pinned to a build (nothing is written; no activity runs). Each is replayed only up to the last event a
 * committed task ran the code on: what a worker would do again, never ahead of its task (events
 * after it, such as a signal no task has taken yet, would run code that has not run). Returns
 * the NonDeterminismError of each that does not replay. A history that cannot be read or decoded
 * here (a corrupt entry, a payload of another codec) is logged and skipped: it says nothing
 * about the code.
 */
export async function checkReplays(
  parts: ReplayCheckParts,
  types: WorkflowDefinition[],
  taskQueues: string[],
  perType: number,
): Promise<ReplayCheckReport> {
  const report: ReplayCheckReport = { replayed: 0, divergences: [] };
  const { link, histories, logger } = parts;
  for (const definition of types) {
    let checked = 0;
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES && checked < perType; page++) {
      const listed = await link.call(`list running '${definition.name}' workflows`, () =>
        listWorkflows(parts, { type: definition.name, status: 'running', limit: perType, cursor }),
      );
      for (const { workflowId, runId, taskQueue, pinnedBuild } of listed.workflows) {
        // A pinned run's tasks go only to its own build's workers, who ran it: nothing to check.
        if (checked >= perType || !taskQueues.includes(taskQueue) || pinnedBuild !== undefined) continue;
        const what = `workflow ${workflowId} (run ${runId}, type '${definition.name}')`;
        try {
          const [seen, entries] = await link.call(`read ${what}`, () =>
            Promise.all([histories.seenThrough(workflowId, runId), histories.readEntries(workflowId, runId)]),
          );
          if (seen === undefined) continue; // no task committed yet: nothing to diverge from
          const upTo = entries.findIndex((e) => e.streamId === seen);
          checked++;
          report.replayed++;
          await withDeterminism(() => replayRun(parts, definition, upTo < 0 ? entries : entries.slice(0, upTo + 1)));
        } catch (err) {
          if (err instanceof NonDeterminismError) report.divergences.push(err);
          else if (err instanceof PayloadError || err instanceof CorruptHistoryError)
            logger.warn(`Replay check: skipped ${what}: ${err.message}`);
          else throw err;
        }
      }
      cursor = listed.nextCursor;
      if (!cursor) break;
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
  taskQueues: string[],
  settings: ReplayGateSettings,
): Promise<void> {
  const report = await checkReplays(parts, types, taskQueues, settings.perType);
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
