/** One row of a divergence: a history event, what the history recorded there and what the code produced. */
export interface DivergenceRow {
  /** The event's position in the history. */
  eventId: number;
  recorded: string;
  /** What the code produced in its place; `undefined`: the same (it matched). */
  produced?: string;
  /** The first event where code and history disagree. */
  mismatch?: boolean;
}

/** Where the code and the history of a run part: the events around the first mismatch, side by side. */
export interface Divergence {
  rows: DivergenceRow[];
  /** The workflow code's line that made the mismatching call, when known (`file:line:column`). */
  callSite?: string;
}

/**
 * The divergence as text, for an error message, the CLI and the explorer: one line per event,
 * the history's side and the code's, `>` at the first mismatch, then the code's call site.
 */
export function divergenceText(divergence: Divergence): string {
  const width = Math.max(16, ...divergence.rows.map((r) => r.recorded.length));
  const lines = [`    ${'event'.padEnd(6)} ${'history recorded'.padEnd(width)}   code produced`];
  for (const row of divergence.rows) {
    const produced = row.produced === undefined ? '(the same)' : row.produced;
    lines.push(
      `  ${row.mismatch ? '>' : ' '} ${`#${row.eventId}`.padEnd(6)} ${row.recorded.padEnd(width)}   ${produced}`,
    );
  }
  if (divergence.callSite) lines.push(`  the code's call: ${divergence.callSite}`);
  return lines.join('\n');
}

/**
 * The first stack frame of `stack` outside the library (whose files are under one of
 * `libraryDirs`) and Node's internals: the workflow code's line that made a durable call.
 */
export function callSiteOf(stack: string | undefined, libraryDirs: string[]): string | undefined {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const frame = line.trim().replace(/^at /, '');
    if (frame.includes('node:') || frame.includes('node_modules') || libraryDirs.some((d) => frame.includes(d)))
      continue;
    return frame;
  }
  return undefined;
}
