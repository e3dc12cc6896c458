-- The recovery sweep reads only the workflows whose check is due: a sorted set per shard and task
-- queue (KeyNames.dueIndex: the shard's index prefix, I.due, the task queue) scores each running
-- workflow by when to look at it next. Any change to a running workflow pulls its check to at
-- most `checkAfter` ms (the lease ttl) from now (ZADD LT never pushes a check later); closing
-- removes it; the sweep, having looked, sets the exact next time (a lease's expiry, a retry time,
-- a timer's due time) or drops it when nothing is outstanding. A workflow parked on a long timer
-- costs the sweep nothing until then. The index is named from the meta's task queue (the run's
-- own, whatever the caller assumed).
local function dueIndexOf(metaKey)
  return O.idx .. I.due .. (redis.call('HGET', metaKey, M.taskQueue) or '')
end
local function checkSoon(metaKey, now)
  local after = tonumber(redis.call('HGET', metaKey, M.checkAfter) or '30000')
  redis.call('ZADD', dueIndexOf(metaKey), 'LT', now + after, O.workflowId)
end
local function forgetCheck(metaKey)
  redis.call('ZREM', dueIndexOf(metaKey), O.workflowId)
end
