-- Idempotent writes from outside a workflow task (signal, cancel, terminate, signal-with-start).
-- Each carries a request id; its reply is kept for an hour in a hash (with a sorted set of
-- times for trimming) under the workflow's hash tag, so a copy of the command that ioredis
-- resends after a connection reset returns the first reply and writes nothing.
local REQUEST_WINDOW_MS = 3600000
local function priorReply(logKey, requestId)
  if not requestId then return nil end
  local prior = redis.call('HGET', logKey, requestId)
  if prior then return cjson.decode(prior) end
  return nil
end
local function rememberReply(logKey, timesKey, requestId, reply, now)
  if not requestId then return reply end
  redis.call('HSET', logKey, requestId, cjson.encode(reply))
  redis.call('ZADD', timesKey, now, requestId)
  local old = redis.call('ZRANGEBYSCORE', timesKey, '-inf', now - REQUEST_WINDOW_MS, 'LIMIT', 0, 16)
  if #old > 0 then
    redis.call('HDEL', logKey, unpack(old))
    redis.call('ZREM', timesKey, unpack(old))
  end
  redis.call('PEXPIRE', logKey, REQUEST_WINDOW_MS)
  redis.call('PEXPIRE', timesKey, REQUEST_WINDOW_MS)
  return reply
end
