import { fileURLToPath } from 'node:url';
import { callSiteOf, type Divergence, type DivergenceRow } from '../core/errors/divergence.js';
import { describeEvent, type CommandEvent, type HistoryEvent } from '../core/events.js';

/** The library package's own files (its compiled code, and its sources a source map points to): not the workflow code's. */
const LIBRARY_DIR = fileURLToPath(new URL('../..', import.meta.url));

/**
 * What a NonDeterminismError shows around the first mismatch: the last commands the code
 * matched on replay (kept as references, two at most: nothing is formatted unless a mismatch
 * happens), the mismatch, and the recorded commands after it that the code never reached.
 */
export class DivergenceContext {
  private readonly matched: CommandEvent[] = [];

  /** A replayed command the code produced again. */
  noteMatched(event: CommandEvent): void {
    this.matched.push(event);
    if (this.matched.length > 2) this.matched.shift();
  }

  /**
   * The divergence at `event` (recorded) where the code `produced` something else; `later`:
   * the recorded commands not yet matched; `stack`: where the code made its call, when it made one.
   */
  at(event: HistoryEvent, produced: string, later: Iterable<CommandEvent>, stack?: string): Divergence {
    const rows: DivergenceRow[] = this.matched.map((e) => ({ eventId: e.id, recorded: describeEvent(e) }));
    rows.push({ eventId: event.id, recorded: describeEvent(event), produced, mismatch: true });
    const after = [...later].filter((e) => e.id > event.id).sort((a, b) => a.id - b.id);
    for (const e of after.slice(0, 2)) rows.push({ eventId: e.id, recorded: describeEvent(e), produced: '-' });
    const callSite = stack === undefined ? undefined : callSiteOf(stack, [LIBRARY_DIR]);
    return { rows, ...(callSite ? { callSite } : {}) };
  }
}
