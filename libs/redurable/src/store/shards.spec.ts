import { describe, expect, test } from '@jest/globals';
import { partitionOf, shardOf, shardTags, stableHash } from './shards.js';

describe('shards', () => {
  test('the workflow hash is FNV-1a over UTF-8, the same for ASCII and non-ASCII ids as an encoder would give', () => {
    const reference = (value: string) => {
      let h = 0x811c9dc5;
      for (const byte of Buffer.from(value, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
      return h;
    };
    for (const id of ['', 'a', 'transfer-42', 'ünïcode ✓', '日本語のID', 'emoji 🎉 id', 'x'.repeat(512)])
      expect(stableHash(id)).toBe(reference(id));
    // Pinned: a workflow's shard must never move between versions.
    expect(stableHash('transfer-1')).toBe(reference('transfer-1'));
    expect([stableHash('transfer-1'), shardOf('transfer-1', 16)]).toEqual([3085864448, 0]);
    expect([shardOf('transfer-1', 16), shardOf('transfer-2', 16), shardOf('order-9', 16)]).toEqual([
      reference('transfer-1') % 16,
      reference('transfer-2') % 16,
      reference('order-9') % 16,
    ]);
  });

  test('ids spread evenly over shards and partitions', () => {
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf(`wf-${i}`, 16)]++;
    for (const n of counts) expect(Math.abs(n - 1000)).toBeLessThan(150);
    expect(partitionOf('anything', 1)).toBe(0);
    const parts = new Array(4).fill(0);
    for (let i = 0; i < 4000; i++) parts[partitionOf(`wf-${i}`, 4)]++;
    for (const n of parts) expect(Math.abs(n - 1000)).toBeLessThan(150);
  });

  test('shard tags are distinct and stable for a count', () => {
    const tags = shardTags(16);
    expect(new Set(tags).size).toBe(16);
    expect(shardTags(16)).toEqual(tags);
    expect(tags[0]).toMatch(/^s0\.\d+$/);
  });
});
