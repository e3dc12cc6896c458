import type { RedisClient } from '../redis-client.js';
import { decodeReply, type CallContext, type ScriptResults } from './replies.js';
import {
  SCRIPT_KEYS,
  scriptSource,
  type ScriptKeys,
  type ScriptName,
  type ScriptOptions,
  type ScriptReplies,
} from './scripts.js';

/**
 * Runs one script: its keys by name, its options, and event JSONs after them; resolves with
 * its decoded reply. `call` names the run and fence the call was made under, for an error.
 */
export type ScriptRunner = <N extends ScriptName>(
  name: N,
  keys: ScriptKeys<N>,
  options: ScriptOptions[N],
  events?: string[],
  call?: Omit<CallContext, 'workflowId'>,
) => Promise<ScriptResults[N]>;

type Command = (...args: string[]) => Promise<unknown>;

/** Defines every script on the client (EVALSHA with automatic EVAL fallback), once per client. */
export function defineScripts(redis: RedisClient): ScriptRunner {
  const client = redis as RedisClient & Record<string, Command>;
  for (const name of Object.keys(SCRIPT_KEYS) as ScriptName[]) {
    if (typeof client[`rd_${name}`] !== 'function') {
      redis.defineCommand(`rd_${name}`, { numberOfKeys: SCRIPT_KEYS[name].length, lua: scriptSource(name) });
    }
  }
  return async (name, keys, options, events = [], call = {}) => {
    const keyList = SCRIPT_KEYS[name].map((k) => (keys as Record<string, string>)[k]);
    // What the script returns is its declared reply (ScriptReplies); its decoder checks the code.
    const reply = (await client[`rd_${name}`](
      ...keyList,
      JSON.stringify(options),
      ...events,
    )) as ScriptReplies[typeof name];
    // Flow control scripts name no workflow (their keys are a limit's).
    const workflowId = (options as { workflowId?: string }).workflowId ?? '';
    return decodeReply(name, reply, { workflowId, ...call });
  };
}
