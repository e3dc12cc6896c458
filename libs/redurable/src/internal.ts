/**
 * `redurable/internal`: the runtime's parts, for this repository's benchmarks and tests only. It resolves
 * only under the `redurable-internal` export condition (`node --conditions=redurable-internal`),
 * so applications cannot import it; nothing here is a stable API.
 */
export { DurableRuntime } from './runtime.js';
export { RecoverySweep } from './engine/recovery-sweep.js';
export { KeyNames, KEY_LAYOUT_VERSION } from './store/keys.js';
export { clusterSlot, partitionOf, shardTags } from './store/shards.js';
