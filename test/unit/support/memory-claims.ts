import type { ActivityClaim, ActivityClaims } from '../../../libs/redurable/src/core/ports/index.js';
import type { FakeClock } from './clock.js';

/** Eager activities' claims in a map, as lua/activityClaim.lua keeps them in the meta hash (one run per workflow here). */
export class MemoryClaims implements ActivityClaims {
  private readonly claims = new Map<string, ActivityClaim & { runId: string }>();

  constructor(private readonly clock: FakeClock) {}

  /** A worker's commit claimed activity `seq` for `ttlMs`. */
  claim(workflowId: string, runId: string, seq: number, owner: string, ttlMs: number): void {
    const now = this.clock.now();
    this.claims.set(`${workflowId}/${seq}`, { runId, seq, owner, since: now, expiresAt: now + ttlMs, taken: false });
  }

  private find(workflowId: string, runId: string, seq: number) {
    const claim = this.claims.get(`${workflowId}/${seq}`);
    return claim?.runId === runId ? claim : undefined;
  }

  async renewClaim(workflowId: string, runId: string, seq: number, owner: string, ttlMs: number): Promise<boolean> {
    const claim = this.find(workflowId, runId, seq);
    if (!claim || claim.owner !== owner || claim.taken) return false;
    claim.expiresAt = this.clock.now() + ttlMs;
    return true;
  }

  async releaseClaim(workflowId: string, runId: string, seq: number, owner?: string): Promise<void> {
    const claim = this.find(workflowId, runId, seq);
    if (claim && (owner === undefined || claim.owner === owner)) this.claims.delete(`${workflowId}/${seq}`);
  }

  async takeOverClaim(
    workflowId: string,
    runId: string,
    seq: number,
  ): Promise<{ kind: 'taken' } | { kind: 'live'; expiresAt: number }> {
    const claim = this.find(workflowId, runId, seq);
    if (!claim || claim.taken) return { kind: 'taken' };
    if (claim.expiresAt >= this.clock.now()) return { kind: 'live', expiresAt: claim.expiresAt };
    claim.taken = true;
    return { kind: 'taken' };
  }

  async claimsOf(workflowId: string, runId: string): Promise<ActivityClaim[]> {
    return [...this.claims.entries()]
      .filter(([key, c]) => key.startsWith(`${workflowId}/`) && c.runId === runId)
      .map(([, { runId: _, ...claim }]) => claim);
  }
}
