-- Continue-as-new: the current run (whose last event says so) is left to expire, and the same
-- meta starts a fresh run with its own history, waiting for its first workflow task.
local function continueRun(metaKey, oldHistory, oldDone, newHistory, newRunId, startedJson, retention, now, idxPrefix, workflowId)
  if retention > 0 then redis.call('PEXPIRE', oldHistory, retention) end
  redis.call('DEL', oldDone)
  redis.call('XADD', newHistory, '*', 'i', 1, 'e', startedJson)
  redis.call('HSET', metaKey, 'runId', newRunId, 'startedAt', now, 'len', 1, 'dirty', 1, 'lease', '', 'leaseExp', 0)
  redis.call('HDEL', metaKey, 'dispatchAt', 'taskFailure', 'taskAttempt', 'retryAt', 'closeValue', 'closedAt')
  redis.call('ZADD', idxPrefix .. 'status:running', now, workflowId)
end
