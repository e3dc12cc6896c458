--[[
  A rate limit's window for one (limit, key): a sorted set of the starts in the last period
  (holder id → when it started). Exact over any window of the period's length, and idempotent
  per holder (a lost reply does not take a second start).

  KEYS: starts
  O: holder, limit, period (ms)

  Returns
    {OK}                allowed: the holder's start is recorded (or was already)
    {BUSY, retryAfter}  refused: the ms until the oldest start that counts leaves the window
]]
--- @include "now"
local starts = KEYS[1]
local now = nowMs()
redis.call('ZREMRANGEBYSCORE', starts, '-inf', now - O.period)
if redis.call('ZSCORE', starts, O.holder) then return {R.OK} end
local count = redis.call('ZCARD', starts)
if count < O.limit then
  redis.call('ZADD', starts, now, O.holder)
  redis.call('PEXPIRE', starts, O.period)
  return {R.OK}
end
local oldest = redis.call('ZRANGE', starts, count - O.limit, count - O.limit, 'WITHSCORES')
return {R.BUSY, math.max(1, tonumber(oldest[2]) + O.period - now)}
