-- The recovery sweep reads only the workflows whose check is due: a sorted set per task queue,
-- <prefix>:idx:due:<taskQueue>, scores each running workflow by when to look at it next. Any
-- change to a running workflow pulls its check to at most `checkAfter` ms (the lease ttl) from
-- now (ZADD LT never pushes a check later); closing removes it; the sweep, having looked, sets
-- the exact next time (a lease's expiry, a retry time, a timer's due time) or drops it when
-- nothing is outstanding. A workflow parked on a long timer costs the sweep nothing until then.
local function dueIndexOf(metaKey)
  local prefix, workflowId = string.match(metaKey, '^(.-):{wf:(.*)}:meta$')
  return prefix .. ':idx:due:' .. (redis.call('HGET', metaKey, 'taskQueue') or ''), workflowId
end
local function checkSoon(metaKey, now)
  local index, workflowId = dueIndexOf(metaKey)
  local after = tonumber(redis.call('HGET', metaKey, 'checkAfter') or '30000')
  redis.call('ZADD', index, 'LT', now + after, workflowId)
end
local function forgetCheck(metaKey)
  local index, workflowId = dueIndexOf(metaKey)
  redis.call('ZREM', index, workflowId)
end
