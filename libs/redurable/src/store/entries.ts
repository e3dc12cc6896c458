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
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  const corrupt = (problem: string) => new CorruptHistoryError(run.workflowId, run.runId, streamId, problem);
  if (f.e === undefined) throw corrupt(`it has no event field 'e' (fields: ${Object.keys(f).join(', ') || 'none'})`);
  let event: HistoryEvent;
  try {
    event = JSON.parse(f.e) as HistoryEvent;
  } catch (err) {
    throw corrupt(`its event is not valid JSON (${(err as Error).message}): ${f.e.slice(0, 80)}`);
  }
  if (!event || typeof event !== 'object' || typeof event.type !== 'string')
    throw corrupt(`its event has no type: ${f.e.slice(0, 80)}`);
  const id = Number(f.i);
  if (!Number.isInteger(id) || id < 1)
    throw corrupt(`its position 'i' is ${JSON.stringify(f.i)}, not a positive integer`);
  event.id = id;
  // Outcome events carry the time the worker gave them (it may have delivered them already);
  // every other event takes the Redis time of its stream id.
  event.ts ??= Number(streamId.slice(0, streamId.indexOf('-')));
  return { streamId, event };
}

export function parseEntries(run: RunRef, raw: RawEntry[]): StoredEvent[] {
  return raw.map((entry) => parseEntry(run, entry));
}
