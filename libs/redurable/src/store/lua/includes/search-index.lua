-- Search attribute indexes, under the shard's index prefix (see KeyNames.searchIndex): a keyword
-- or bool attribute in I.searchAttribute .. '<name>:<value>' scored by start time (equality, paged
-- like the type index), a number or datetime in I.searchAttribute .. '<name>' scored by its value
-- (ranges). The meta's M.searchAttributes field holds the current map as TS encoded it; Lua only
-- reads it (cjson would round numbers it re-encodes).
local function searchIndexKey(name, a)
  if a['type'] == 'number' or a['type'] == 'datetime' then
    return O.idx .. I.searchAttribute .. name, string.format('%.17g', a['value'])
  end
  return O.idx .. I.searchAttribute .. name .. ':' .. tostring(a['value']), nil
end

-- Replaces the run's search attributes with `json` (nil: none): the old map's index entries
-- go, the new map's are added.
local function setSearchAttributes(metaKey, workflowId, json)
  local old = redis.call('HGET', metaKey, M.searchAttributes)
  if old then
    for name, a in pairs(cjson.decode(old)) do
      local key = searchIndexKey(name, a)
      redis.call('ZREM', key, workflowId)
    end
  end
  if not json then
    redis.call('HDEL', metaKey, M.searchAttributes)
    return
  end
  local startedAt = redis.call('HGET', metaKey, M.startedAt) or '0'
  for name, a in pairs(cjson.decode(json)) do
    local key, score = searchIndexKey(name, a)
    redis.call('ZADD', key, score or startedAt, workflowId)
  end
  redis.call('HSET', metaKey, M.searchAttributes, json)
end
