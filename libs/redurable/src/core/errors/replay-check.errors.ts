import type { NonDeterminismError } from './library.errors.js';
import { RedurableError } from './redurable.error.js';

/** How many divergences a ReplayCheckError spells out (the rest are counted). */
const SHOWN = 10;

/**
 * A worker's code does not replay the histories of running workflows it would take over (the
 * replay gate at boot, `replayCheck`), or `replayHistories()` found saved histories it does not
 * replay: deploying it would fail their workflow tasks with a NonDeterminismError. The message
 * lists each workflow with the event where code and history part, both sides side by side.
 * Keep the old code path behind `patched()`, or, if the change is known to be safe for these
 * runs, boot with `replayCheck: { onFailure: 'warn' }`.
 */
export class ReplayCheckError extends RedurableError {
  constructor(
    /** One error per workflow whose history the code does not replay. */
    readonly divergences: NonDeterminismError[],
    /** How many histories were replayed. */
    readonly replayed: number,
    /** Where the histories came from: "running workflows of the types this worker serves", a file name. */
    source: string,
  ) {
    const shown = divergences.slice(0, SHOWN).map((d) => `- ${d.message.replace(/\n/g, '\n  ')}`);
    if (divergences.length > SHOWN) shown.push(`- and ${divergences.length - SHOWN} more`);
    super(
      `Replay check failed: the code does not replay ${divergences.length} of ${replayed} histories (${source}); ` +
        `deploying it would fail their workflow tasks. Keep the old path behind patched(), or fix the change:\n${shown.join('\n')}`,
    );
  }
}
