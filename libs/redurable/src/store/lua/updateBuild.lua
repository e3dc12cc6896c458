--[[
  Moves a pinned run to another build (`redurable workflow update-build`): its tasks go to that
  build's workers from now on (a task already running finishes where it is).

  KEYS: meta
  O: to (the build), workflowId, idx

  Returns
    {NOT_RUNNING, status}   the workflow is not running: nothing written
    {CONFLICT}              its run is not pinned (auto-upgrade: any worker runs it): nothing written
    {OK, from, wake, runId, taskQueue, priority}   moved from build `from`; wake = 1 when events
                            wait for a task and none holds the lease (the caller enqueues one on
                            the new build's queue, at the run's priority, 0 for the default; the
                            sweep looks at the run soon, should that enqueue be lost)
]]
--- @include "now"
--- @include "due-check"
--- @include "lease-held"
local meta = KEYS[1]
local status = redis.call('HGET', meta, M.status)
if status ~= 'running' then return {R.NOT_RUNNING, status or 'missing'} end
local from = redis.call('HGET', meta, M.pinnedBuild)
if not from then return {R.CONFLICT} end
local now = nowMs()
redis.call('HSET', meta, M.pinnedBuild, O.to)
checkSoon(meta, now)
local wake = 0
if redis.call('HGET', meta, M.dirty) == '1' and not leaseHeld(meta, now) then wake = 1 end
return {R.OK, from, wake, redis.call('HGET', meta, M.runId), redis.call('HGET', meta, M.taskQueue), tonumber(redis.call('HGET', meta, M.priority) or '0')}
