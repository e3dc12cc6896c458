--[[
  Appends the events a workflow task produced, fenced by the lease token, optionally closes
  the run, and optionally releases the lease. A stale holder (fence moved on) writes nothing.

  KEYS[1] meta hash   KEYS[2] history stream
  ARGV[1] fence          ARGV[2] lease ttl ms     ARGV[3] release: 1 to release the lease
  ARGV[4] close status: '' | 'completed' | 'failed'
  ARGV[5] close value: result payload or failure JSON      ARGV[6] closed channel (pub/sub)
  ARGV[7] workflowId     ARGV[8] caller's last stream id (for returning new entries)
  ARGV[9..] event JSONs to append, in order

  Returns
    {-3}                          lease lost: nothing written
    {1, lastId}                   committed (and released, or kept when release = 0)
    {2, lastId, entries}          committed; new events arrived meanwhile, lease kept, entries
                                  after the caller's last id are returned for the next round
]]
--- @include "now"
local meta = KEYS[1]
local fence = redis.call('HGET', meta, 'fence')
if redis.call('HGET', meta, 'status') ~= 'running' or fence ~= ARGV[1] or redis.call('HGET', meta, 'lease') ~= ARGV[1] then
  return {-3}
end
local now = nowMs()
local lastId = ARGV[8]
local len = tonumber(redis.call('HGET', meta, 'len'))
for i = 9, #ARGV do
  len = len + 1
  lastId = redis.call('XADD', KEYS[2], '*', 'i', len, 'e', ARGV[i])
end
redis.call('HSET', meta, 'len', len)
redis.call('HDEL', meta, 'taskFailure', 'taskAttempt', 'retryAt')
if ARGV[4] ~= '' then
  redis.call('HSET', meta, 'status', ARGV[4], 'closedAt', now, 'closeValue', ARGV[5], 'lease', '', 'dirty', 0)
  redis.call('PUBLISH', ARGV[6], ARGV[7])
  return {1, lastId}
end
if ARGV[3] ~= '1' then
  redis.call('HSET', meta, 'leaseExp', now + tonumber(ARGV[2]))
  return {1, lastId}
end
if redis.call('HGET', meta, 'dirty') == '1' then
  redis.call('HSET', meta, 'dirty', 0, 'leaseExp', now + tonumber(ARGV[2]))
  return {2, lastId, redis.call('XRANGE', KEYS[2], '(' .. ARGV[8], '+')}
end
redis.call('HSET', meta, 'lease', '')
return {1, lastId}
