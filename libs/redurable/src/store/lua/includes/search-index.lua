-- Search attribute indexes, under the shard's index prefix: a keyword or bool attribute in
-- `sa:<name>:<value>` scored by start time (equality, paged like the type index), a number or
-- datetime in `sa:<name>` scored by its value (ranges). The meta's `sa` field holds the current
-- map as TS encoded it; Lua only reads it (cjson would round numbers it re-encodes).
local function searchIndexKey(name, a)
  if a['type'] == 'number' or a['type'] == 'datetime' then
    return O.idx .. 'sa:' .. name, string.format('%.17g', a['value'])
  end
  return O.idx .. 'sa:' .. name .. ':' .. tostring(a['value']), nil
end

-- Replaces the run's search attributes with `json` (nil: none): the old map's index entries
-- go, the new map's are added.
local function setSearchAttributes(metaKey, workflowId, json)
  local old = redis.call('HGET', metaKey, 'sa')
  if old then
    for name, a in pairs(cjson.decode(old)) do
      local key = searchIndexKey(name, a)
      redis.call('ZREM', key, workflowId)
    end
  end
  if not json then
    redis.call('HDEL', metaKey, 'sa')
    return
  end
  local startedAt = redis.call('HGET', metaKey, 'startedAt') or '0'
  for name, a in pairs(cjson.decode(json)) do
    local key, score = searchIndexKey(name, a)
    redis.call('ZADD', key, score or startedAt, workflowId)
  end
  redis.call('HSET', metaKey, 'sa', json)
end
