--[[
  The recovery sweep's verdict on a workflow it looked at: when to look again. Written only
  if nothing changed since the sweep read it (same history length, fence and lease); else the
  change already pulled the check forward and that stands.

  KEYS[1] meta hash
  ARGV[1] history length the sweep read   ARGV[2] fence it read   ARGV[3] lease it read ('' if free)
  ARGV[4] next check time, ms ('' when nothing is outstanding: leave the index)
  ARGV[5] '1' to clear the dispatch mark: the sweep found every job of the last commit in place

  Returns 1 when written, 0 when the workflow changed meanwhile (or is closed: then it leaves the index).
]]
--- @include "due-check"
local m = redis.call('HMGET', KEYS[1], 'status', 'len', 'fence', 'lease')
if m[1] ~= 'running' then
  if m[1] then forgetCheck(KEYS[1]) end
  return 0
end
if m[2] ~= ARGV[1] or (m[3] or '0') ~= ARGV[2] or (m[4] or '') ~= ARGV[3] then return 0 end
if ARGV[5] == '1' then redis.call('HDEL', KEYS[1], 'dispatchAt') end
if ARGV[4] == '' then
  forgetCheck(KEYS[1])
else
  local index, workflowId = dueIndexOf(KEYS[1])
  redis.call('ZADD', index, ARGV[4], workflowId)
end
return 1
