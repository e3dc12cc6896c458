--[[
  Appends an event from outside the workflow (a signal, a cancellation request) to the
  current run and wakes it.

  KEYS[1] meta hash   KEYS[2] history of the current run
  ARGV[1] runId the caller read     ARGV[2] event JSON
  ARGV[3] cancel channel to publish 'cancel:<workflowId>' on ('' for none)    ARGV[4] workflowId
  ARGV[5] request id: a second copy (resent after a lost reply) records nothing

  Returns
    {0, status}   the run is not running: nothing written
    {-9}          the current run changed since the caller read it: read and retry
    {1}           recorded; a task holds the lease and will see it
    {3}           recorded; the caller must enqueue a workflow task
]]
--- @include "now"
--- @include "due-check"
--- @include "requests"
local now = nowMs()
if priorReply(KEYS[1], ARGV[5]) then
  local lease = redis.call('HGET', KEYS[1], 'lease')
  if lease and lease ~= '' and tonumber(redis.call('HGET', KEYS[1], 'leaseExp') or '0') > now then return {1} end
  return {3}
end
local status = redis.call('HGET', KEYS[1], 'status')
if redis.call('HGET', KEYS[1], 'runId') ~= ARGV[1] then return {-9} end
if status ~= 'running' then return {0, status or 'missing'} end
local len = redis.call('HINCRBY', KEYS[1], 'len', 1)
redis.call('XADD', KEYS[2], '*', 'i', len, 'e', ARGV[2])
redis.call('HSET', KEYS[1], 'dirty', 1)
checkSoon(KEYS[1], now)
if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], 'cancel:' .. ARGV[4]) end
rememberReply(KEYS[1], ARGV[5], {1}, now)
local lease = redis.call('HGET', KEYS[1], 'lease')
if lease and lease ~= '' and tonumber(redis.call('HGET', KEYS[1], 'leaseExp') or '0') > now then return {1} end
return {3}
