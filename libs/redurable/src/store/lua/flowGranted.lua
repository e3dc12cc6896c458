--[[
  A run that waited for its concurrency slot got it: it takes tasks from now on (the events it
  received meanwhile are `dirty`, for its first task) and leaves the waiting index.

  KEYS: meta
  O: runId (the run granted), workflowId, idx

  Idempotent: a run already granted is left as it is.

  Returns
    OK           the run may take tasks
    NOT_RUNNING  the run is no longer the current running run (the caller frees the slot)
]]
--- @include "now"
--- @include "due-check"
local meta = KEYS[1]
if redis.call('HGET', meta, M.status) ~= 'running' or redis.call('HGET', meta, M.runId) ~= O.runId then
  return R.NOT_RUNNING
end
if redis.call('HDEL', meta, M.flowWait) == 1 then
  redis.call('ZREM', O.idx .. I.flowWaiting, O.workflowId)
  checkSoon(meta, nowMs())
end
return R.OK
