/** Redis Cluster's hash slots. */
const SLOTS = 16384;

/** Redis Cluster's slot of a key without a hash tag: CRC16 (XMODEM) of its bytes, modulo the slots. */
export function clusterSlot(key: string): number {
  let crc = 0;
  for (const byte of Buffer.from(key, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % SLOTS;
}

/** The default number of logical shards of a fresh prefix (recorded in Redis on first use). */
export const DEFAULT_SHARDS = 16;
/** Upper bound on `shards`: every listing page and sweep pass reads each shard's index once. */
export const MAX_SHARDS = 1024;

/** FNV-1a over the UTF-8 bytes: a stable 32-bit hash that does not change between versions. */
export function stableHash(value: string): number {
  let h = 0x811c9dc5;
  const step = (byte: number) => {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  // ASCII ids (the common case) hash without encoding the string first.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80) {
      h = 0x811c9dc5;
      for (const byte of Buffer.from(value, 'utf8')) step(byte);
      return h;
    }
    step(c);
  }
  return h;
}

/** The logical shard of a workflow id. */
export function shardOf(workflowId: string, shards: number): number {
  return stableHash(workflowId) % shards;
}

/** The partition of a task queue that a workflow's jobs go to. */
export function partitionOf(workflowId: string, partitions: number): number {
  return partitions <= 1 ? 0 : stableHash(`p:${workflowId}`) % partitions;
}

/**
 * The hash tag of each shard. Shard i's tag is the first `s<i>.<k>` whose Cluster slot falls in
 * the i-th of `shards` equal slot ranges: a cluster whose masters own equal contiguous ranges
 * (what `redis-cli --cluster create` makes) holds an equal share of the shards on each master.
 * A pure function of the count, so every process derives the same tags.
 */
export function shardTags(shards: number): string[] {
  const tags: string[] = [];
  for (let i = 0; i < shards; i++) {
    const lo = Math.floor((i * SLOTS) / shards);
    const hi = Math.floor(((i + 1) * SLOTS) / shards);
    for (let k = 0; ; k++) {
      const tag = `s${i}.${k}`;
      const slot = clusterSlot(tag);
      if (slot >= lo && slot < hi) {
        tags.push(tag);
        break;
      }
    }
  }
  return tags;
}
