--- @include "append-events"
--- @include "close-run"
-- Terminates a running run at once, without running any workflow code: records why (`eventJson`,
-- a WorkflowExecutionTerminated or WorkflowExecutionTimedOut), closes the run as `status`
-- (terminated, timed_out) with that event as its close value, and tells workers to abort its
-- running activities.
local function terminateRun(metaKey, historyKey, doneKey, status, eventJson, retention, closedChannel, cancelChannel, workflowId, now)
  appendEvent(metaKey, historyKey, eventJson)
  closeRun(metaKey, historyKey, doneKey, status, eventJson, retention, closedChannel, workflowId, now)
  redis.call('PUBLISH', cancelChannel, 'terminate:' .. workflowId)
end
