--[[
  Gives up the lease after a workflow task failed (for example a non-determinism error),
  leaving the workflow marked as needing a task, with the failure for describe().
  The retry delay doubles with each failed attempt: min(max, base * 2^(attempt-1)).

  KEYS: meta
  O: fence, message, baseMs, maxMs, requestId (a resent copy returns the first reply),
     workflowId, idx

  Returns {OK, taskAttempt, delayMs, priority} (priority: the run's, nil for the default, so the
  retry's task job keeps it) or {LEASE_LOST} when the lease was already lost.
]]
--- @include "now"
--- @include "due-check"
--- @include "lease-memo"
local memo = leaseMemo(KEYS[1], O.requestId)
if memo then return memo end
if redis.call('HGET', KEYS[1], M.lease) ~= tostring(O.fence) then return {R.LEASE_LOST} end
local attempt = redis.call('HINCRBY', KEYS[1], M.taskAttempt, 1)
local delay = math.min(O.maxMs, O.baseMs * math.pow(2, attempt - 1))
local now = nowMs()
redis.call('HSET', KEYS[1], M.lease, '', M.dirty, 1, M.taskFailure, O.message, M.retryAt, now + delay)
checkSoon(KEYS[1], now)
return setLeaseMemo(KEYS[1], O.requestId, {R.OK, attempt, delay, redis.call('HGET', KEYS[1], M.priority)})
