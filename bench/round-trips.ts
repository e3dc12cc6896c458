/**
 * Counts the Redis round trips of a piece of work with MONITOR: every command a client sent,
 * by name (EVALSHA named after its script); commands run inside Lua scripts are left out.
 * MONITOR slows Redis down, so this runs apart from the timed measurements.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** sha1 → script name for every Lua script defined on these ioredis clients (Redurable's and BullMQ's). */
export function scriptNames(...clients: Redis[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const client of clients) {
    const set = (client as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet ?? {};
    for (const [name, script] of Object.entries(set)) names.set(script.sha, name.replace(/:[\d.]+$/, ''));
  }
  return names;
}

/** Commands sent to Redis while `work` ran, by name. */
export async function roundTrips(url: string, scripts: Map<string, string>, work: () => Promise<void>): Promise<Map<string, number>> {
  const marker = `bench-marker-${randomUUID()}`;
  const control = new Redis(url);
  const monitor = await control.duplicate().monitor();
  const counts = new Map<string, number>();
  let phase: 'before' | 'during' | 'after' = 'before';
  let onEnd!: () => void;
  const ended = new Promise<void>((r) => (onEnd = r));
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const cmd = String(args[0]).toLowerCase();
    if (cmd === 'echo' && args[1] === `${marker}-start`) phase = 'during';
    else if (cmd === 'echo' && args[1] === `${marker}-end`) {
      phase = 'after';
      onEnd();
    } else if (phase === 'during' && source !== 'lua') {
      const name = cmd === 'evalsha' || cmd === 'eval' ? `${cmd === 'eval' ? 'EVAL ' : ''}${scripts.get(cmd === 'evalsha' ? args[1] : '') ?? 'script'}` : cmd.toUpperCase();
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  });
  try {
    await control.echo(`${marker}-start`);
    await work();
    await control.echo(`${marker}-end`);
    await ended;
  } finally {
    monitor.disconnect();
    await control.quit();
  }
  return counts;
}

/** Per-step difference of two counts taken over `longSteps` and `shortSteps` steps (fixed costs cancel). */
export function perStep(short: Map<string, number>, long: Map<string, number>, stepsBetween: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const key of new Set([...short.keys(), ...long.keys()])) {
    const v = ((long.get(key) ?? 0) - (short.get(key) ?? 0)) / stepsBetween;
    if (Math.abs(v) >= 0.01) out.set(key, v);
  }
  return new Map([...out].sort((a, b) => b[1] - a[1]));
}
