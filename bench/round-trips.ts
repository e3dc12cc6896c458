/**
 * Counts the Redis round trips of a piece of work with MONITOR: every command a client sent,
 * by name (EVALSHA named after its script, `@queue` for BullMQ's); commands run inside Lua
 * scripts are left out. MONITOR slows Redis down, so this runs apart from the timed measurements.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RawChain } from './raw-chain.js';
import { runChain, startBenchApp } from './redurable-chain.js';
import { fixedCount } from './stats.js';

/** sha1 → script name for every Lua script defined on these ioredis clients (Redurable's and BullMQ's). */
export function scriptNames(...clients: object[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const client of clients) {
    const set = (client as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet ?? {};
    for (const [name, script] of Object.entries(set)) names.set(script.sha, name.replace(/:[\d.]+$/, ''));
  }
  return names;
}

/** BullMQ keys are `<prefix>:<queue>:<suffix>`, Redurable's queue names in braces (its workflow keys have more parts). */
function queueOf(key: string | undefined): string | undefined {
  return key ? /^[^:{]+:\{?([^:{}]+)\}?:[^:]+$/.exec(key)?.[1]?.replace(/^bench-/, '') : undefined;
}

/** Commands sent to Redis while `work` ran, by name. */
export async function roundTrips(
  url: string,
  scripts: Map<string, string>,
  work: () => Promise<void>,
): Promise<Map<string, number>> {
  const marker = `bench-marker-${randomUUID()}`;
  const control = new Redis(url);
  const monitor = await control.monitor();
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
      const script = cmd === 'evalsha' || cmd === 'eval';
      const base = script
        ? `${cmd === 'eval' ? 'EVAL ' : ''}${scripts.get(cmd === 'evalsha' ? args[1] : '') ?? 'script'}`
        : cmd.toUpperCase();
      const queue = queueOf(script ? args[3] : args[1]);
      const name = queue ? `${base}@${queue}` : base;
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

/** (long − short) / stepsBetween per command: with two runs of different length, fixed costs cancel. */
export function perStep(
  short: Map<string, number>,
  long: Map<string, number>,
  stepsBetween: number,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const key of new Set([...short.keys(), ...long.keys()])) {
    const v = ((long.get(key) ?? 0) - (short.get(key) ?? 0)) / stepsBetween;
    if (Math.abs(v) >= 0.01) out.set(key, v);
  }
  return new Map([...out].sort((a, b) => b[1] - a[1]));
}

/**
 * Commands per step of both chains. Sequential: from a 20-step and a 60-step chain (start and
 * end costs cancel). Loaded: 2 × slots chains of `steps` steps, `slots` at a time, every command
 * divided by the number of steps (start, result and end included).
 */
export async function profileRoundTrips(url: string, slots: number, steps: number) {
  const app = await startBenchApp(url, 'bench-prof', { sweepInterval: '1h' });
  const raw = await RawChain.start(url, 'bench-raw-prof', slots);
  try {
    await runChain(app.client, 'warm', 20);
    await raw.run('warm', 20);
    const names = scriptNames(app.runtime.redis, raw.connection);
    const count = (work: () => Promise<void>) => roundTrips(url, names, work);
    const none = new Map<string, number>();
    const chains = 2 * slots;
    return {
      redurable: perStep(
        await count(() => runChain(app.client, 'p20', 20)),
        await count(() => runChain(app.client, 'p60', 60)),
        40,
      ),
      raw: perStep(await count(() => raw.run('p20', 20)), await count(() => raw.run('p60', 60)), 40),
      redurableLoaded: perStep(
        none,
        await count(() => fixedCount(slots, chains, (n) => runChain(app.client, `l-${n}`, steps))),
        chains * steps,
      ),
      rawLoaded: perStep(
        none,
        await count(() => fixedCount(slots, chains, (n) => raw.run(`l-${n}`, steps))),
        chains * steps,
      ),
    };
  } finally {
    await raw.close();
    await app.close();
  }
}
