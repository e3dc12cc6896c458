--[[
  The claim of an eager activity (see includes/activity-claims), by `op`:
    renew     its owner extends it to now + ttl; refused when it is gone (the outcome was
              recorded, or the sweep took it over and released it), another's, or taken over
    release   drops it (its owner handed the activity to its queue, or the sweep added its job)
    takeOver  the recovery sweep, for an activity with no outcome: a live claim is left alone;
              an expired one is marked taken (its owner can no longer renew it), so that the
              activity's job can be added

  KEYS: meta
  O: op, runId, seq, owner? (renew, release: only the owner's claim), ttl? (renew)

  Returns
    {OK}              renewed, released, or taken over (also when already taken, or absent)
    {BUSY, expiresAt} takeOver: the claim is live
    {NOT_RUNNING}     renew refused
]]
--- @include "now"
--- @include "activity-claims"
local meta = KEYS[1]
local claim = readClaim(meta, O.runId, O.seq)
if O.op == 'renew' then
  if not claim or claim.owner ~= O.owner or claim.state == 'taken' then return {R.NOT_RUNNING} end
  redis.call('HSET', meta, M.claim .. O.seq,
    O.runId .. '|' .. claim.owner .. '|' .. (nowMs() + O.ttl) .. '|' .. claim.since .. '|')
  return {R.OK}
end
if O.op == 'release' then
  if claim and (O.owner == nil or claim.owner == O.owner) then dropClaim(meta, O.seq) end
  return {R.OK}
end
-- takeOver
if not claim or claim.state == 'taken' then return {R.OK} end
if claim.exp >= nowMs() then return {R.BUSY, claim.exp} end
redis.call('HSET', meta, M.claim .. O.seq,
  O.runId .. '|' .. claim.owner .. '|' .. claim.exp .. '|' .. claim.since .. '|taken')
return {R.OK}
