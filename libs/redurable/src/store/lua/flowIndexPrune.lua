--[[
  Drops keys of one concurrency limit from the flow index (see store/flow-index.ts) that were
  found empty, and the limit's name once it has no key left. An entry goes only when it is still
  as old as when it was read: a process that wrote it down again since (a new holder or waiter)
  keeps it.

  KEYS: limits, keys (of the limit `name`; one hash tag)
  O: name, cutoff (ms: only entries written down before it go), drop ({key, touchedAt} read empty)

  Returns OK
]]
local limits, keys = KEYS[1], KEYS[2]
for _, entry in ipairs(O.drop) do
  local at = redis.call('ZSCORE', keys, entry[1])
  if at and tonumber(at) == entry[2] and entry[2] < O.cutoff then redis.call('ZREM', keys, entry[1]) end
end
if redis.call('ZCARD', keys) == 0 then
  local at = redis.call('ZSCORE', limits, O.name)
  if at and tonumber(at) < O.cutoff then redis.call('ZREM', limits, O.name) end
end
return R.OK
