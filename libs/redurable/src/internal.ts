/**
 * `redurable/internal`: the runtime's parts, for this repository's benchmarks and tests only. It resolves
 * only under the `redurable-internal` export condition (`node --conditions=redurable-internal`),
 * so applications cannot import it; nothing here is a stable API.
 */
export { DurableRuntime } from './module/durable-runtime.js';
export { RecoverySweep } from './worker/recovery-sweep.js';
export { KeyNames, KEY_LAYOUT_VERSION } from './history/keys.js';
export { clusterSlot, partitionOf, shardTags } from './history/shards.js';
