--- @include "due-check"
--- @include "lease-held"
-- Takes the workflow-task lease if it is free or expired, bumping the fencing token.
-- Returns {R.ACQUIRED, fence, full, entries}: entries after cacheLastId when the caller's cache is
-- still valid (its fence is the previous one), else the whole history (full = 1).
-- Returns nil when another holder's lease is still valid.
local function acquireLease(metaKey, historyKey, now, ttl, cacheFence, cacheLastId)
  if leaseHeld(metaKey, now) then return nil end
  local fence = redis.call('HINCRBY', metaKey, 'fence', 1)
  redis.call('HSET', metaKey, 'lease', fence, 'leaseExp', now + ttl, 'dirty', 0)
  checkSoon(metaKey, now)
  local full = 1
  local entries
  if cacheFence and cacheFence + 1 == fence and cacheLastId and cacheLastId ~= '' then
    full = 0
    entries = redis.call('XRANGE', historyKey, '(' .. cacheLastId, '+')
  else
    entries = redis.call('XRANGE', historyKey, '-', '+')
  end
  return {R.ACQUIRED, fence, full, entries}
end
