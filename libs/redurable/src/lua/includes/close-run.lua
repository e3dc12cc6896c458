-- Closes a run: final status and value, lease released, done set dropped, history and meta
-- kept for `retention` ms (0 = forever), and a message on the closed channel.
local function closeRun(metaKey, historyKey, doneKey, status, value, retention, channel, workflowId, now)
  redis.call('HSET', metaKey, 'status', status, 'closedAt', now, 'closeValue', value, 'lease', '', 'dirty', 0)
  redis.call('HDEL', metaKey, 'dispatchAt', 'taskFailure', 'taskAttempt', 'retryAt')
  redis.call('DEL', doneKey)
  if retention > 0 then
    redis.call('PEXPIRE', historyKey, retention)
    redis.call('PEXPIRE', metaKey, retention)
  end
  redis.call('PUBLISH', channel, workflowId)
end
