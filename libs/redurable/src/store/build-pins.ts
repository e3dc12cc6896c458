import type { BuildMoveResult, BuildPins } from '../core/ports/index.js';
import type { KeyNames } from './keys.js';
import { defineScripts, type ScriptRunner } from './lua/runner.js';
import type { RedisClient } from './redis-client.js';
import { WorkerRegistry } from './worker-registry.js';

/** Moves pinned runs between builds, and tells which builds have live workers. */
export class RedisBuildPins implements BuildPins {
  private readonly run: ScriptRunner;
  private readonly registry: WorkerRegistry;

  constructor(
    redis: RedisClient,
    private readonly keys: KeyNames,
  ) {
    this.run = defineScripts(redis);
    this.registry = new WorkerRegistry(redis, keys);
  }

  move(workflowId: string, build: string): Promise<BuildMoveResult> {
    return this.run(
      'updateBuild',
      { meta: this.keys.meta(workflowId) },
      { workflowId, idx: this.keys.indexPrefixOf(workflowId), to: build },
    );
  }

  async liveBuilds(taskQueue?: string): Promise<Set<string>> {
    const live = await this.registry.live();
    return new Set(
      live.flatMap((w) =>
        w.build !== undefined && (taskQueue === undefined || w.taskQueues.includes(taskQueue)) ? [w.build] : [],
      ),
    );
  }
}
