import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INDEX_NAMES } from '../keys.js';
import { META_FIELDS } from '../meta-schema.js';
import { Reply, SCRIPT_KEYS, scriptSource, type ScriptName } from './scripts.js';

const LUA_DIR = dirname(fileURLToPath(import.meta.url));

/** A script's own code: after the prelude, without comments. */
function code(name: ScriptName): string {
  const source = scriptSource(name);
  return source
    .slice(source.indexOf('local O = cjson.decode(ARGV[1])'))
    .replace(/--\[\[[\s\S]*?\]\]/g, '')
    .replace(/--.*$/gm, '');
}

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

  test.each(names)('%s: every reply code, meta field and index it names is a declared one', (name) => {
    const used = (table: string) =>
      new Set([...scriptSource(name).matchAll(new RegExp(`\\b${table}\\.(\\w+)`, 'g'))].map((m) => m[1]));
    expect([...used('R')].filter((code) => !(code in Reply))).toEqual([]);
    expect([...used('M')].filter((field) => !(field in META_FIELDS))).toEqual([]);
    expect([...used('I')].filter((index) => !(index in INDEX_NAMES))).toEqual([]);
  });

  test.each(names)('%s: spells no meta field and no index name of its own (they come from M and I)', (name) => {
    const lua = code(name);
    // A quoted name that is not a key of a decoded JSON object (`event['type']`).
    const spelled = (literal: string) => new RegExp(`(?<!\\[)'${literal.replace(/[-:]/g, '\\$&')}'(?!\\])`).test(lua);
    expect(Object.values(META_FIELDS).filter(spelled)).toEqual([]);
    expect(Object.values(INDEX_NAMES).filter(spelled)).toEqual([]);
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
