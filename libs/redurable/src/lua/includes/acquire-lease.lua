--- @include "due-check"
--- @include "lease-held"
--- @include "last-entry"
-- Takes the workflow-task lease if it is free or expired, bumping the fencing token.
-- Returns {R.ACQUIRED, fence, 0, entries}: the entries after cacheLastId when the caller's cache
-- is still valid (its fence is the previous one); else {R.ACQUIRED, fence, 1, lastId}: the caller
-- reads the whole history up to lastId itself (see lastEntryId).
-- Returns nil when another holder's lease is still valid.
local function acquireLease(metaKey, historyKey, now, ttl, cacheFence, cacheLastId)
  if leaseHeld(metaKey, now) then return nil end
  local fence = redis.call('HINCRBY', metaKey, 'fence', 1)
  redis.call('HSET', metaKey, 'lease', fence, 'leaseExp', now + ttl, 'dirty', 0)
  checkSoon(metaKey, now)
  if cacheFence and cacheFence + 1 == fence and cacheLastId and cacheLastId ~= '' then
    return {R.ACQUIRED, fence, 0, redis.call('XRANGE', historyKey, '(' .. cacheLastId, '+')}
  end
  return {R.ACQUIRED, fence, 1, lastEntryId(historyKey)}
end
