--- @include "due-check"
-- Continue-as-new: the current run (whose last event says so) is left to expire, and the same
-- meta starts a fresh run with its own history, waiting for its first workflow task. Signals
-- and cancellation requests the old run's code never saw (after `lastId`: received while its
-- last task ran, or after the code decided to continue) are carried over to the new run,
-- after its first event, so none is lost.
local function continueRun(metaKey, oldHistory, oldDone, newHistory, newRunId, startedJson, retention, now, workflowId, lastId)
  if retention > 0 then
    redis.call('PEXPIRE', oldHistory, retention)
    redis.call('PEXPIRE', oldDone, retention)
  end
  redis.call('XADD', newHistory, '*', 'i', 1, 'e', startedJson)
  local len = 1
  if lastId and lastId ~= '' then
    for _, entry in ipairs(redis.call('XRANGE', oldHistory, '(' .. lastId, '+')) do
      local fields = entry[2]
      for f = 1, #fields, 2 do
        if fields[f] == 'e' then
          local t = cjson.decode(fields[f + 1])['type']
          if t == 'SignalReceived' or t == 'WorkflowCancelRequested' then
            len = len + 1
            redis.call('XADD', newHistory, '*', 'i', len, 'e', fields[f + 1])
          end
        end
      end
    end
  end
  redis.call('HSET', metaKey, 'runId', newRunId, 'startedAt', now, 'len', len, 'dirty', 1, 'lease', '', 'leaseExp', 0)
  redis.call('HDEL', metaKey, 'dispatchAt', 'taskFailure', 'taskAttempt', 'retryAt', 'closeValue', 'closedAt', 'hasChildren')
  redis.call('ZADD', O.idx .. 'status:running', now, workflowId)
  checkSoon(metaKey, now)
end
