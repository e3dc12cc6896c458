/**
 * Small helpers of the benchmark: a clock, percentiles, a closed-loop load driver and
 * number formatting. Nothing here talks to Redis.
 */
import { performance } from 'node:perf_hooks';

export const now = (): number => performance.now();

/** Nearest-rank percentile (p in 0..100) of a non-empty sample. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const median = (values: number[]): number => percentile(values, 50);

/** Milliseconds `fn` takes. */
export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = now();
  await fn();
  return now() - start;
}

/**
 * Keeps `slots` units of work in flight until `durationMs` has passed (each slot starts its next
 * unit as soon as the previous one ends); units still running at the deadline are waited for
 * and counted. Returns how many units completed and the wall time they took.
 */
export async function closedLoop(
  slots: number,
  durationMs: number,
  unit: (n: number) => Promise<void>,
): Promise<{ units: number; elapsedMs: number }> {
  const start = now();
  const deadline = start + durationMs;
  let started = 0;
  let units = 0;
  await Promise.all(
    Array.from({ length: slots }, async () => {
      while (now() < deadline) {
        await unit(started++);
        units++;
      }
    }),
  );
  return { units, elapsedMs: now() - start };
}

/** Runs `total` units of work, at most `slots` at a time. */
export async function fixedCount(slots: number, total: number, unit: (n: number) => Promise<void>): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: Math.min(slots, total) }, async () => {
      while (started < total) await unit(started++);
    }),
  );
}

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function grouped(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

/** Rows as left-aligned, space-padded columns. */
export function columns(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (cell ?? '').padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
