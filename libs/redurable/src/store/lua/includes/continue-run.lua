--- @include "append-events"
--- @include "close-run"
--- @include "next-run"
-- Continue-as-new: the current run (whose last event says so) is left to expire, and the same
-- meta starts a fresh run with its own history, waiting for its first workflow task. Signals
-- and cancellation requests the old run's code never saw (after `lastId`: received while its
-- last task ran, or after the code decided to continue) are carried over to the new run,
-- after its first event, so none is lost. The new run is not pinned to the old run's build.
local function continueRun(metaKey, oldHistory, oldDone, newHistory, newRunId, startedJson, retention, now, workflowId, lastId)
  expireRun(oldHistory, oldDone, retention)
  addEntry(newHistory, 1, startedJson)
  local len = 1
  if lastId and lastId ~= '' then
    for _, entry in ipairs(redis.call('XRANGE', oldHistory, '(' .. lastId, '+')) do
      local fields = entry[2]
      for f = 1, #fields, 2 do
        if fields[f] == 'e' then
          local t = cjson.decode(fields[f + 1])['type']
          if t == 'SignalReceived' or t == 'WorkflowCancelRequested' then
            len = len + 1
            addEntry(newHistory, len, fields[f + 1])
          end
        end
      end
    end
  end
  startNextRun(metaKey, newRunId, len, now, workflowId)
  redis.call('HDEL', metaKey, M.pinnedBuild) -- a fresh run: the newest build takes it
end
