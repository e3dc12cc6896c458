--- @include "due-check"
--- @include "set-status"
-- Closes a run: final status and value, lease released, history, meta and done set kept for
-- `retention` ms (0 = forever), and a message on the closed channel. What the parent of a
-- child, or the children of a parent, still need is copied into the index data hashes, so a
-- later run of the same id (which replaces the meta) cannot lose it.
local function closeRun(metaKey, historyKey, doneKey, status, value, retention, channel, workflowId, now)
  forgetCheck(metaKey)
  setStatus(metaKey, workflowId, status)
  redis.call('HSET', metaKey, 'closedAt', now, 'closeValue', value, 'lease', '', 'dirty', 0)
  redis.call('HDEL', metaKey, 'dispatchAt', 'taskFailure', 'taskAttempt', 'retryAt')
  if retention > 0 then
    redis.call('PEXPIRE', historyKey, retention)
    redis.call('PEXPIRE', metaKey, retention)
    -- The done set outlives the run so a restarted job of its last activity is not run again.
    redis.call('PEXPIRE', doneKey, retention)
  end
  local runId = redis.call('HGET', metaKey, 'runId')
  local parent = redis.call('HGET', metaKey, 'parent')
  if parent then
    redis.call('ZADD', O.idx .. 'notify', now, workflowId)
    redis.call('HSET', O.idx .. 'notify-data', workflowId,
      cjson.encode({ parent = cjson.decode(parent), status = status, value = value, runId = runId }))
  end
  if redis.call('HEXISTS', metaKey, 'hasChildren') == 1 then
    redis.call('ZADD', O.idx .. 'closed-parents', now, workflowId)
    redis.call('HSET', O.idx .. 'closed-parents-data', workflowId, runId)
  end
  redis.call('PUBLISH', channel, workflowId)
end
