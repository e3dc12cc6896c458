--[[
  Gives up the lease after a workflow task failed (for example a non-determinism error),
  leaving the workflow marked as needing a task, with the failure for describe().
  The retry delay doubles with each failed attempt: min(max, base * 2^(attempt-1)).

  KEYS[1] meta hash
  ARGV[1] fence   ARGV[2] failure message   ARGV[3] base delay ms   ARGV[4] max delay ms
  ARGV[5] request id (a resent copy returns the first reply)

  Returns {1, taskAttempt, delayMs} or {-3} when the lease was already lost.
]]
--- @include "now"
--- @include "due-check"
--- @include "lease-memo"
local memo = leaseMemo(KEYS[1], ARGV[5])
if memo then return memo end
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return {-3} end
local attempt = redis.call('HINCRBY', KEYS[1], 'taskAttempt', 1)
local delay = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * math.pow(2, attempt - 1))
local now = nowMs()
redis.call('HSET', KEYS[1], 'lease', '', 'dirty', 1, 'taskFailure', ARGV[2], 'retryAt', now + delay)
checkSoon(KEYS[1], now)
return setLeaseMemo(KEYS[1], ARGV[5], {1, attempt, delay})
