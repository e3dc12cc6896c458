--- @include "whole-history"
-- The lease holder's last write, kept in the meta hash, so that a copy of a lease-path script
-- (acquire, commit, fail, a completion that took the lease) resent by ioredis after a lost
-- reply returns the first reply instead of writing twice. Only a script that holds or takes
-- the lease sets it, and while the lease is held nobody else does, so one slot is enough: once
-- another worker has taken the lease the copy finds a different memo and its fence check fails.
local function leaseMemo(metaKey, requestId)
  if not requestId then return nil end
  local memo = redis.call('HMGET', metaKey, M.memoReq, M.memoReply)
  if memo[1] == requestId then return cjson.decode(memo[2]) end
  return nil
end
local function setLeaseMemo(metaKey, requestId, reply)
  if requestId then redis.call('HSET', metaKey, M.memoReq, requestId, M.memoReply, cjson.encode(reply)) end
  return reply
end
-- A remembered {R.ACQUIRED, fence} (lease taken): the lease again, as a full one, while
-- the lease is still that one; else {R.BUSY} (it expired and someone else may hold it).
local function leaseAgain(metaKey, historyKey, memo, now)
  if redis.call('HGET', metaKey, M.lease) == tostring(memo[2]) and tonumber(redis.call('HGET', metaKey, M.leaseExp) or '0') > now then
    local kind, history = wholeHistory(metaKey, historyKey)
    return {R.ACQUIRED, memo[2], kind, history}
  end
  return {R.BUSY}
end
