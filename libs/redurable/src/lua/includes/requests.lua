-- Idempotent writes from outside a workflow task (signal, cancel, terminate, signal-with-start).
-- Each carries a request id; its reply is kept for an hour in a hash (with a sorted set of
-- times for trimming) under the workflow's hash tag, so a copy of the command that ioredis
-- resends after a connection reset returns the first reply and writes nothing.
local REQUEST_WINDOW_MS = 3600000
local function requestLogKeys(metaKey)
  local base = string.sub(metaKey, 1, -6) -- strip ':meta'
  return base .. ':requests', base .. ':request-times'
end
local function priorReply(metaKey, requestId)
  if requestId == '' then return nil end
  local log = requestLogKeys(metaKey)
  local prior = redis.call('HGET', log, requestId)
  if prior then return cjson.decode(prior) end
  return nil
end
local function rememberReply(metaKey, requestId, reply, now)
  if requestId == '' then return reply end
  local log, times = requestLogKeys(metaKey)
  redis.call('HSET', log, requestId, cjson.encode(reply))
  redis.call('ZADD', times, now, requestId)
  local old = redis.call('ZRANGEBYSCORE', times, '-inf', now - REQUEST_WINDOW_MS, 'LIMIT', 0, 16)
  if #old > 0 then
    redis.call('HDEL', log, unpack(old))
    redis.call('ZREM', times, unpack(old))
  end
  redis.call('PEXPIRE', log, REQUEST_WINDOW_MS)
  redis.call('PEXPIRE', times, REQUEST_WINDOW_MS)
  return reply
end
