--[[
  The recovery sweep's verdict on a workflow it looked at: when to look again. Written only
  if nothing changed since the sweep read it (same run, history length, fence and lease). If
  something changed, that change meant "look again within checkAfter": the check moves to
  then (never earlier than it is), so a busy workflow does not stay due and crowd out others.

  KEYS[1] meta hash
  ARGV[1] runId the sweep read ('' when the workflow was missing or closed)
  ARGV[2] history length it read   ARGV[3] fence it read   ARGV[4] lease it read ('' if free)
  ARGV[5] next check time, ms ('' when nothing is outstanding: leave the index)
  ARGV[6] '1' to clear the dispatch mark: the sweep found every job of the last commit in place
  ARGV[7] the due index the sweep read   ARGV[8] workflowId

  Returns 1 when the verdict was written, 0 when the workflow changed meanwhile, 2 when it is
  not running (it left the index).
]]
--- @include "now"
local m = redis.call('HMGET', KEYS[1], 'status', 'runId', 'len', 'fence', 'lease', 'checkAfter')
if m[1] ~= 'running' then
  redis.call('ZREM', ARGV[7], ARGV[8])
  return 2
end
if m[2] ~= ARGV[1] or m[3] ~= ARGV[2] or (m[4] or '0') ~= ARGV[3] or (m[5] or '') ~= ARGV[4] then
  redis.call('ZADD', ARGV[7], 'GT', nowMs() + tonumber(m[6] or '30000'), ARGV[8])
  return 0
end
if ARGV[6] == '1' then redis.call('HDEL', KEYS[1], 'dispatchAt') end
if ARGV[5] == '' then
  redis.call('ZREM', ARGV[7], ARGV[8])
else
  redis.call('ZADD', ARGV[7], ARGV[5], ARGV[8])
end
return 1
