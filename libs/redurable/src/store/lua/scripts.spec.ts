import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Reply, SCRIPT_KEYS, scriptSource, type ScriptName } from './scripts.js';

const LUA_DIR = dirname(fileURLToPath(import.meta.url));

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

  test('every event is appended by the append-events include (no other file adds stream entries)', () => {
    const files = [
      ...readdirSync(LUA_DIR).filter((f) => f.endsWith('.lua')),
      ...readdirSync(join(LUA_DIR, 'includes')).map((f) => join('includes', f)),
    ];
    const adding = files.filter((f) => readFileSync(join(LUA_DIR, f), 'utf8').includes("'XADD'"));
    expect(adding).toEqual([join('includes', 'append-events.lua')]);
  });
});
