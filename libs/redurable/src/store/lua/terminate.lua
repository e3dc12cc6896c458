--[[
  Terminates a running run at once: records why, closes it as `terminated` (or, for a run past
  its workflow timeout, `timed_out`) without running any workflow code, and tells workers to
  abort its running activities.

  KEYS: meta, history, done (of the run the caller read), requests, requestTimes
  ARGV[2]: the WorkflowExecutionTerminated (or WorkflowExecutionTimedOut) JSON
  O: runId (the run the caller read), status? (the closed status, default terminated), closedChannel,
     cancelChannel, retentionMs, requestId (a second copy, resent after a lost reply, returns
     OK), workflowId, idx

  Returns {OK} terminated, {NOT_RUNNING, status} not running, {RETRY} the run changed: read and retry
]]
--- @include "now"
--- @include "terminate-run"
--- @include "requests"
if priorReply(KEYS[4], O.requestId) then return {R.OK} end
local status = redis.call('HGET', KEYS[1], M.status)
if redis.call('HGET', KEYS[1], M.runId) ~= O.runId then return {R.RETRY} end
if status ~= 'running' then return {R.NOT_RUNNING, status or 'missing'} end
terminateRun(KEYS[1], KEYS[2], KEYS[3], O.status or 'terminated', ARGV[2], O.retentionMs, O.closedChannel, O.cancelChannel, O.workflowId, nowMs())
rememberReply(KEYS[4], KEYS[5], O.requestId, {R.OK}, nowMs())
return {R.OK}
