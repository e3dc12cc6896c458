-- Closes a run: final status and value, lease released, done set dropped, history and meta
-- kept for `retention` ms (0 = forever), and a message on the closed channel.
local function closeRun(metaKey, historyKey, doneKey, status, value, retention, channel, workflowId, now, idxPrefix)
  setStatus(metaKey, idxPrefix, workflowId, status)
  redis.call('HSET', metaKey, 'closedAt', now, 'closeValue', value, 'lease', '', 'dirty', 0)
  redis.call('HDEL', metaKey, 'dispatchAt', 'taskFailure', 'taskAttempt', 'retryAt')
  redis.call('DEL', doneKey)
  if retention > 0 then
    redis.call('PEXPIRE', historyKey, retention)
    redis.call('PEXPIRE', metaKey, retention)
  end
  -- A child's outcome still has to reach its parent (another workflow's keys): the notify
  -- index keeps it until that is done, so the recovery sweep can finish the job.
  if redis.call('HEXISTS', metaKey, 'parent') == 1 then redis.call('ZADD', idxPrefix .. 'notify', now, workflowId) end
  -- Likewise a parent's children still have to get its parent-close policy.
  if redis.call('HEXISTS', metaKey, 'hasChildren') == 1 then redis.call('ZADD', idxPrefix .. 'closed-parents', now, workflowId) end
  redis.call('PUBLISH', channel, workflowId)
end
