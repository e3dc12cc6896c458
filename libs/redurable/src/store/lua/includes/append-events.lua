-- Appends event JSONs ARGV[from..] to the history, numbering them after the meta's `len`.
-- Returns the stream id of the last one appended (or `lastId` when there were none).
local function appendEvents(metaKey, historyKey, argv, from, lastId)
  local len = tonumber(redis.call('HGET', metaKey, 'len'))
  for i = from, #argv do
    len = len + 1
    lastId = redis.call('XADD', historyKey, '*', 'i', len, 'e', argv[i])
  end
  redis.call('HSET', metaKey, 'len', len)
  return lastId
end
