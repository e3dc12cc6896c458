import { describe, expect, test } from '@jest/globals';
import { Reply, SCRIPT_KEYS, scriptSource, type ScriptName } from './scripts.js';

/** The assembled Lua of every script: its includes inlined once each, in an order that runs. */
describe('Lua script sources', () => {
  const names = Object.keys(SCRIPT_KEYS) as ScriptName[];

  test.each(names)('%s: every function is defined once, before any call to it', (name) => {
    const source = scriptSource(name);
    const defined = [...source.matchAll(/local function (\w+)\(/g)].map((m) => m[1]);
    expect(defined.filter((d, i) => defined.indexOf(d) !== i)).toEqual([]);
    for (const fn of defined) {
      const at = source.indexOf(`local function ${fn}(`);
      const firstCall = [...source.matchAll(new RegExp(`(?<!function )\\b${fn}\\(`, 'g'))][0]?.index ?? Infinity;
      expect({ fn, calledBeforeDefined: firstCall < at }).toEqual({ fn, calledBeforeDefined: false });
    }
    expect(source).not.toMatch(/--- @include/);
  });

  test.each(names)('%s: every reply code it names is one of the shared codes', (name) => {
    const used = new Set([...scriptSource(name).matchAll(/\bR\.(\w+)/g)].map((m) => m[1]));
    expect([...used].filter((code) => !(code in Reply))).toEqual([]);
  });
});
