-- A whole history for a lease: (1, entries) when it is short, returned inline; else (2, lastId),
-- the id of its last entry, and the caller reads it with a native XRANGE up to that id:
-- returning thousands of entries from a script costs Redis several times more (each is
-- converted to a Lua table and back), while a short one is not worth another round trip.
local INLINE_HISTORY = 64
local function wholeHistory(metaKey, historyKey)
  if tonumber(redis.call('HGET', metaKey, M.historyLength) or '0') <= INLINE_HISTORY then
    return 1, redis.call('XRANGE', historyKey, '-', '+')
  end
  local last = redis.call('XREVRANGE', historyKey, '+', '-', 'COUNT', 1)[1]
  return 2, last and last[1] or '0-0'
end
