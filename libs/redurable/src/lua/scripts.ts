import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';

const LUA_DIR = dirname(fileURLToPath(import.meta.url));
const INCLUDE = /^--- @include "([\w-]+)"$/gm;

/** Script source with `--- @include "name"` lines replaced by `includes/name.lua`. */
function loadSource(file: string): string {
  return readFileSync(join(LUA_DIR, file), 'utf8').replace(INCLUDE, (_, name: string) =>
    readFileSync(join(LUA_DIR, 'includes', `${name}.lua`), 'utf8'),
  );
}

/** Script names, each file being `<name>-<numberOfKeys>.lua`. */
export type ScriptName = 'startWorkflow' | 'appendCompletion' | 'acquireTask' | 'commitTask' | 'failTask' | 'completeAndCommit' | 'appendExternal' | 'terminate' | 'rescheduleCheck';

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** Defines every script of lua/ on the client (EVALSHA with automatic EVAL fallback), once per client. */
export function defineScripts(redis: Redis): Record<ScriptName, ScriptFn> {
  const client = redis as Redis & Record<string, ScriptFn>;
  const seen = new Set<string>();
  for (const file of readdirSync(LUA_DIR).filter((f) => f.endsWith('.lua'))) {
    const match = /^(\w+)-(\d+)\.lua$/.exec(file);
    if (!match) continue;
    const [, name, keys] = match;
    if (seen.has(name)) throw new Error(`Two Lua scripts are named ${name} in ${LUA_DIR}: remove the stale one (rebuild with npm run build)`);
    seen.add(name);
    if (typeof client[`rd_${name}`] !== 'function') {
      redis.defineCommand(`rd_${name}`, { numberOfKeys: Number(keys), lua: loadSource(file) });
    }
  }
  const bind = (name: ScriptName): ScriptFn => (...args) => client[`rd_${name}`](...args);
  return {
    startWorkflow: bind('startWorkflow'),
    appendCompletion: bind('appendCompletion'),
    acquireTask: bind('acquireTask'),
    commitTask: bind('commitTask'),
    failTask: bind('failTask'),
    completeAndCommit: bind('completeAndCommit'),
    appendExternal: bind('appendExternal'),
    terminate: bind('terminate'),
    rescheduleCheck: bind('rescheduleCheck'),
  };
}
