import { CorruptHistoryError } from '../core/errors/library.errors.js';
import type { HistoryEvent, StoredEvent } from '../core/events.js';

/** A history stream entry as XRANGE (and the scripts) return it: its stream id and its fields, flat. */
export type RawEntry = [streamId: string, fields: string[]];

/** Which run a batch of entries belongs to, for naming it in a CorruptHistoryError. */
export interface RunRef {
  workflowId: string;
  runId: string;
}

/**
 * An entry as an event: `e` holds its JSON, `i` its position in the history (the event's id).
 * An entry that is not one is a CorruptHistoryError naming the run and the entry.
 */
export function parseEntry(run: RunRef, [streamId, fields]: RawEntry): StoredEvent {
  // The fields `e` and `i` (the last of each, as a field map would keep them), without building the map.
  let e: string | undefined;
  let i: string | undefined;
  for (let k = fields.length - 2; k >= 0 && (e === undefined || i === undefined); k -= 2) {
    const name = fields[k];
    if (name === 'e') e ??= fields[k + 1];
    else if (name === 'i') i ??= fields[k + 1];
  }
  const corrupt = (problem: string) => new CorruptHistoryError(run.workflowId, run.runId, streamId, problem);
  if (e === undefined) {
    const f: Record<string, string> = {};
    for (let k = 0; k < fields.length; k += 2) f[fields[k]] = fields[k + 1];
    throw corrupt(`it has no event field 'e' (fields: ${Object.keys(f).join(', ') || 'none'})`);
  }
  let event: HistoryEvent;
  try {
    event = JSON.parse(e) as HistoryEvent;
  } catch (err) {
    throw corrupt(`its event is not valid JSON (${(err as Error).message}): ${e.slice(0, 80)}`);
  }
  if (!event || typeof event !== 'object' || typeof event.type !== 'string')
    throw corrupt(`its event has no type: ${e.slice(0, 80)}`);
  const id = Number(i);
  if (!Number.isInteger(id) || id < 1)
    throw corrupt(`its position 'i' is ${JSON.stringify(i)}, not a positive integer`);
  event.id = id;
  // Outcome events carry the time the worker gave them (it may have delivered them already);
  // every other event takes the Redis time of its stream id.
  event.ts ??= Number(streamId.slice(0, streamId.indexOf('-')));
  return { streamId, event };
}

export function parseEntries(run: RunRef, raw: RawEntry[]): StoredEvent[] {
  return raw.map((entry) => parseEntry(run, entry));
}
