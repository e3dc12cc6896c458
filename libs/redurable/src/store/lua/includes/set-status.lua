-- Sets a workflow's status and moves it between the status indexes (sorted sets of workflow
-- ids scored by start time, under the shard's index prefix).
local function setStatus(metaKey, workflowId, status)
  local old = redis.call('HGET', metaKey, 'status')
  local score = redis.call('HGET', metaKey, 'startedAt') or '0'
  if old then redis.call('ZREM', O.idx .. 'status:' .. old, workflowId) end
  redis.call('ZADD', O.idx .. 'status:' .. status, score, workflowId)
  redis.call('HSET', metaKey, 'status', status)
end
