/**
 * Claims of eager activities: an activity a worker runs in process, with no BullMQ job, is
 * claimed for that worker in the commit that records its scheduling; the worker renews the claim
 * while the attempt runs, and recording the outcome drops it. A claim that expires (its worker
 * died) is taken over by the recovery sweep, which adds the activity's job.
 */

/** The eager activities a commit claims. */
export interface ClaimRequest {
  /** The seqs of the commit's activity commands that this worker runs. */
  seqs: number[];
  /** The claiming worker (a process's id). */
  owner: string;
  ttlMs: number;
}

/** A claim as read: its owner, since when and until when (server time, ms); `taken` once the sweep took it over. */
export interface ActivityClaim {
  seq: number;
  owner: string;
  since: number;
  expiresAt: number;
  taken: boolean;
}

/** What the claims port does. */
export interface ActivityClaims {
  /** Extends the owner's claim to ttl from now; false when it is gone, another's, or taken over. */
  renewClaim(workflowId: string, runId: string, seq: number, owner: string, ttlMs: number): Promise<boolean>;
  /** Drops the claim (only `owner`'s, when given). */
  releaseClaim(workflowId: string, runId: string, seq: number, owner?: string): Promise<void>;
  /** The sweep takes an expired claim over ('taken'), or finds it live (with its expiry). */
  takeOverClaim(
    workflowId: string,
    runId: string,
    seq: number,
  ): Promise<{ kind: 'taken' } | { kind: 'live'; expiresAt: number }>;
  /** The run's claims (others' and stale ones left out). */
  claimsOf(workflowId: string, runId: string): Promise<ActivityClaim[]>;
}
