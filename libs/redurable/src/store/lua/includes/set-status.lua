-- Sets a workflow's status and moves it between the status indexes (sorted sets of workflow
-- ids scored by start time, under the shard's index prefix).
local function setStatus(metaKey, workflowId, status)
  local old = redis.call('HGET', metaKey, M.status)
  local score = redis.call('HGET', metaKey, M.startedAt) or '0'
  if old then redis.call('ZREM', O.idx .. I.status .. old, workflowId) end
  redis.call('ZADD', O.idx .. I.status .. status, score, workflowId)
  redis.call('HSET', metaKey, M.status, status)
end
