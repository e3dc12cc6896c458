-- Appends an activity/timer/child outcome to the current run, first result wins.
-- Returns false (nothing written) when the run is not running, is another run, or the seq
-- already has its outcome; else appends it and marks the workflow as having new events.
local function appendOutcome(metaKey, historyKey, doneKey, runId, seq, eventJson)
  if redis.call('HGET', metaKey, 'status') ~= 'running' or redis.call('HGET', metaKey, 'runId') ~= runId then return false end
  if redis.call('SADD', doneKey, seq) == 0 then return false end
  local len = redis.call('HINCRBY', metaKey, 'len', 1)
  redis.call('XADD', historyKey, '*', 'i', len, 'e', eventJson)
  redis.call('HSET', metaKey, 'dirty', 1)
  return true
end
