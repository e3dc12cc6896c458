import type { NewEvent } from '../core/events.js';
import type { ClaimRequest } from '../core/ports/index.js';
import { searchAttributesAfter } from '../core/search/search-attributes.js';

/** The search attributes JSON after the upserts among a commit's events, for its script (undefined: none among them). */
export function upsertedMap(events: NewEvent[]): string | undefined {
  const map = searchAttributesAfter(events);
  return map ? JSON.stringify(map) : undefined;
}

/** A commit's claims of eager activities, as its script takes them (see lua/includes/activity-claims.lua). */
export function claimArgs(claims: ClaimRequest | undefined) {
  return claims && claims.seqs.length > 0
    ? { claims: claims.seqs, claimOwner: claims.owner, claimTtl: claims.ttlMs }
    : undefined;
}
