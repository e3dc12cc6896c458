import type { Type } from '../core/types.js';
import { workflowDefinitionOf } from '../core/definitions/registry.js';
import type { HistoryEvent, WorkflowExecutionStarted } from '../core/events.js';
import { DataConverter, type PayloadCodec } from '../core/payload/data-converter.js';
import { WorkflowActivation, type Closing } from '../workflow/activation.js';
import { withDeterminism } from '../workflow/determinism.js';

/** What replaying a history produced. */
export interface ReplayResult {
  /** How the code ended the run on replay, if it did (payloads as stored). */
  closing?: Closing;
  /** The run's return value, decoded, when the code completed on replay. */
  result?: unknown;
  /** Commands the code produced beyond the recorded history (the run's next steps). */
  newCommands: number;
}

/** Options of {@link replayHistory}: those of the app's module that decode its payloads. */
export interface ReplayOptions {
  /** The app's `payloadCodec`, when its payloads are encoded (encrypted). */
  payloadCodec?: PayloadCodec;
  /** The app's `payloadClasses`, so that their instances replay as instances. */
  payloadClasses?: Type<object>[];
}

/**
 * Replays a recorded history (from `handle.fetchHistory()`) against the current workflow
 * code, without Redis. Throws a NonDeterminismError naming the first step where code and
 * history disagree — run it in CI over saved histories before deploying a change.
 */
export async function replayHistory(
  workflow: Type<object>,
  history: HistoryEvent[],
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  return withDeterminism(() => replay(workflow, history, options));
}

async function replay(workflow: Type<object>, history: HistoryEvent[], options: ReplayOptions): Promise<ReplayResult> {
  const started = history[0] as WorkflowExecutionStarted | undefined;
  if (!started || started.type !== 'WorkflowExecutionStarted')
    throw new TypeError('A history must begin with WorkflowExecutionStarted');
  const converter = new DataConverter(Number.MAX_SAFE_INTEGER, options.payloadCodec, options.payloadClasses);
  const activation = new WorkflowActivation(workflowDefinitionOf(workflow), started, converter);
  await activation.activate(history.map((event, i) => ({ streamId: `${event.ts}-${i}`, event })));
  const closing = activation.takeClosing() ?? activation.closingState;
  const result =
    closing?.status === 'completed'
      ? converter.decode(closing.value, `replayed result of '${started.workflowId}'`)
      : undefined;
  return { closing, result, newCommands: activation.takeCommands().length };
}
