--- @include "due-check"
--- @include "lease-held"
--- @include "whole-history"
--- @include "build-pin"
-- Takes the workflow-task lease if it is free or expired, bumping the fencing token.
-- Returns {R.ACQUIRED, fence, 0, entries}: the entries after cacheLastId when the caller's cache
-- is still valid (its fence is the previous one); else the whole history, as wholeHistory gives
-- it: {R.ACQUIRED, fence, 1, entries} or {R.ACQUIRED, fence, 2, lastId}.
-- Returns nil when another holder's lease is still valid, and {R.WRONG_BUILD, build, priority,
-- fence} when the run is pinned to another build than the caller's (O.build): nothing written,
-- the task belongs on that build's queue.
local function acquireLease(metaKey, historyKey, now, ttl, cacheFence, cacheLastId)
  if leaseHeld(metaKey, now) then return nil end
  local pin = pinnedElsewhere(metaKey)
  if pin then
    return {R.WRONG_BUILD, pin, tonumber(redis.call('HGET', metaKey, M.priority) or '0'), tonumber(redis.call('HGET', metaKey, M.fence) or '0')}
  end
  local fence = redis.call('HINCRBY', metaKey, M.fence, 1)
  redis.call('HSET', metaKey, M.lease, fence, M.leaseExp, now + ttl, M.dirty, 0)
  -- A debounced run's first task begins: later debounced starts no longer replace its input.
  redis.call('HDEL', metaKey, M.startAt, M.startBy)
  -- The build of the worker that runs this task (describe().lastTaskBuild); none recorded: unknown.
  if O.build then redis.call('HSET', metaKey, M.taskBuild, O.build) else redis.call('HDEL', metaKey, M.taskBuild) end
  checkSoon(metaKey, now)
  if cacheFence and cacheFence + 1 == fence and cacheLastId and cacheLastId ~= '' then
    return {R.ACQUIRED, fence, 0, redis.call('XRANGE', historyKey, '(' .. cacheLastId, '+')}
  end
  local kind, history = wholeHistory(metaKey, historyKey)
  return {R.ACQUIRED, fence, kind, history}
end
