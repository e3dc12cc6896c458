-- The id of a history's last entry ('0-0' when empty). A whole history is read by the caller
-- with a native XRANGE up to it: returning thousands of entries from a script costs Redis
-- several times more (each is converted to a Lua table and back).
local function lastEntryId(historyKey)
  local last = redis.call('XREVRANGE', historyKey, '+', '-', 'COUNT', 1)[1]
  return last and last[1] or '0-0'
end
