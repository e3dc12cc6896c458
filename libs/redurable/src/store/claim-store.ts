import type { ActivityClaim, ActivityClaims } from '../core/ports/index.js';
import type { KeyNames } from './keys.js';
import { defineScripts, type ScriptRunner } from './lua/runner.js';
import { META_FIELDS as M } from './meta-schema.js';
import type { RedisClient } from './redis-client.js';

/** Eager activities' claims, fields of the meta hash (see lua/includes/activity-claims.lua). */
export class RedisClaimStore implements ActivityClaims {
  private readonly run: ScriptRunner;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyNames,
  ) {
    this.run = defineScripts(redis);
  }

  private claim(
    workflowId: string,
    o: { op: 'renew' | 'release' | 'takeOver'; runId: string; seq: number; owner?: string; ttl?: number },
  ) {
    return this.run(
      'activityClaim',
      { meta: this.keys.meta(workflowId) },
      Object.assign({ workflowId, idx: this.keys.indexPrefixOf(workflowId) }, o),
      [],
      { runId: o.runId },
    );
  }

  async renewClaim(workflowId: string, runId: string, seq: number, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.claim(workflowId, { op: 'renew', runId, seq, owner, ttl: ttlMs })).kind === 'done';
  }

  async releaseClaim(workflowId: string, runId: string, seq: number, owner?: string): Promise<void> {
    await this.claim(workflowId, { op: 'release', runId, seq, owner });
  }

  async takeOverClaim(
    workflowId: string,
    runId: string,
    seq: number,
  ): Promise<{ kind: 'taken' } | { kind: 'live'; expiresAt: number }> {
    const res = await this.claim(workflowId, { op: 'takeOver', runId, seq });
    return res.kind === 'live' ? res : { kind: 'taken' };
  }

  async claimsOf(workflowId: string, runId: string): Promise<ActivityClaim[]> {
    const hash = await this.redis.hgetall(this.keys.meta(workflowId));
    const claims: ActivityClaim[] = [];
    for (const [field, value] of Object.entries(hash)) {
      if (!field.startsWith(M.claim)) continue;
      const [run, owner, expiresAt, since, state] = value.split('|');
      if (run !== runId) continue;
      claims.push({
        seq: Number(field.slice(M.claim.length)),
        owner,
        expiresAt: Number(expiresAt),
        since: Number(since),
        taken: state === 'taken',
      });
    }
    return claims.sort((a, b) => a.seq - b.seq);
  }
}
