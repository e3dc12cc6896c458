-- Claims of eager activities, in the meta hash: field M.claim .. seq holds
-- 'runId|owner|expiresAt|since|state' (state '' or 'taken'). The commit that records an activity's
-- scheduling claims it for the worker that will run it in process (no BullMQ job); the worker
-- renews the claim while the attempt runs; recording the activity's outcome drops the claim. The
-- recovery sweep takes over an expired claim (state 'taken': its owner can no longer renew it)
-- and adds the activity's job. A claim of another run is stale: ignored, and overwritten.
local function claimActivities(metaKey, runId, seqs, owner, ttl, now)
  if not seqs then return end
  for _, seq in ipairs(seqs) do
    redis.call('HSET', metaKey, M.claim .. seq, runId .. '|' .. owner .. '|' .. (now + ttl) .. '|' .. now .. '|')
  end
end
local function dropClaim(metaKey, seq)
  redis.call('HDEL', metaKey, M.claim .. seq)
end
-- The claim's parts, or nil when there is none for this run.
local function readClaim(metaKey, runId, seq)
  local v = redis.call('HGET', metaKey, M.claim .. seq)
  if not v then return nil end
  local r, owner, exp, since, state = string.match(v, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)$')
  if r ~= runId then return nil end
  return {owner = owner, exp = tonumber(exp), since = since, state = state}
end
