import { readFile } from 'node:fs/promises';
import { workflowDefinitionOf } from '../core/definitions/registry.js';
import { InvalidArgumentError, NonDeterminismError } from '../core/errors/library.errors.js';
import { ReplayCheckError } from '../core/errors/replay-check.errors.js';
import type { HistoryEvent } from '../core/events.js';
import type { Type } from '../core/types.js';
import { replayHistory, type ReplayOptions } from './replay-history.js';

/** One line of `redurable workflow export`. */
interface ExportedRun {
  workflowId: string;
  runId: string;
  workflowType: string;
  history: HistoryEvent[];
}

/** What {@link replayHistories} replayed. */
export interface ReplayHistoriesResult {
  /** Histories replayed, by workflow type. */
  replayed: Record<string, number>;
}

/**
 * Replays every history of a file written by `redurable workflow export` (one JSON line each)
 * against the current code of `workflows`, without Redis: the CI twin of the workers' replay
 * gate. Throws a ReplayCheckError listing each workflow whose history the code does not replay
 * (the event, both sides side by side); an InvalidArgumentError for a line that is not an
 * exported run, or a run whose type is not among `workflows`.
 * @example
 * // redurable workflow export --type TransferWorkflow --status running --limit 100 > runs.ndjson
 * await replayHistories('runs.ndjson', [TransferWorkflow]);
 */
export async function replayHistories(
  file: string,
  workflows: Type<object>[],
  options: ReplayOptions = {},
): Promise<ReplayHistoriesResult> {
  const byType = new Map(workflows.map((w) => [workflowDefinitionOf(w).name, w]));
  const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  const replayed: Record<string, number> = {};
  const divergences: NonDeterminismError[] = [];
  for (const [i, line] of lines.entries()) {
    const run = exportedRun(line, `${file}:${i + 1}`);
    const workflow = byType.get(run.workflowType);
    if (!workflow)
      throw new InvalidArgumentError(
        `${file}:${i + 1}: workflow '${run.workflowId}' is of type '${run.workflowType}', not one of the classes given (${[...byType.keys()].join(', ')}); pass its class or export with --type`,
      );
    try {
      await replayHistory(workflow, run.history, options);
    } catch (err) {
      if (!(err instanceof NonDeterminismError)) throw err;
      divergences.push(err);
    }
    replayed[run.workflowType] = (replayed[run.workflowType] ?? 0) + 1;
  }
  if (divergences.length > 0) throw new ReplayCheckError(divergences, lines.length, file);
  return { replayed };
}

function exportedRun(line: string, where: string): ExportedRun {
  let run: Partial<ExportedRun>;
  try {
    run = JSON.parse(line) as Partial<ExportedRun>;
  } catch (err) {
    throw new InvalidArgumentError(
      `${where}: not JSON (${(err as Error).message}); use a file written by 'redurable workflow export'`,
    );
  }
  if (
    typeof run?.workflowType !== 'string' ||
    typeof run.workflowId !== 'string' ||
    !Array.isArray(run.history) ||
    run.history[0]?.type !== 'WorkflowExecutionStarted'
  )
    throw new InvalidArgumentError(
      `${where}: not an exported run ({ workflowId, runId, workflowType, history } whose history begins with WorkflowExecutionStarted); use a file written by 'redurable workflow export'`,
    );
  return run as ExportedRun;
}
