--- @include "due-check"
-- Every event enters a history here: a stream entry with its position `i` (from 1) and its JSON `e`.
local function addEntry(historyKey, position, eventJson)
  return redis.call('XADD', historyKey, '*', 'i', position, 'e', eventJson)
end
-- Appends one event JSON to the current run, after the meta's history length, which it counts.
-- Returns its stream id.
local function appendEvent(metaKey, historyKey, eventJson)
  return addEntry(historyKey, redis.call('HINCRBY', metaKey, M.historyLength, 1), eventJson)
end
-- Appends event JSONs ARGV[from..] to the history, numbering them after the meta's history length.
-- Returns the stream id of the last one appended (or `lastId` when there were none).
local function appendEvents(metaKey, historyKey, argv, from, lastId)
  local len = tonumber(redis.call('HGET', metaKey, M.historyLength))
  for i = from, #argv do
    len = len + 1
    lastId = addEntry(historyKey, len, argv[i])
  end
  redis.call('HSET', metaKey, M.historyLength, len)
  return lastId
end
-- An event from outside a workflow task (a signal, an outcome, a cancellation request): appended,
-- the workflow marked as having events no task has taken yet, and its recovery check pulled near.
local function appendFromOutside(metaKey, historyKey, eventJson, now)
  appendEvent(metaKey, historyKey, eventJson)
  redis.call('HSET', metaKey, M.dirty, 1)
  checkSoon(metaKey, now)
end
