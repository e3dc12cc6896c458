--[[
  Takes the workflow-task lease of a running workflow.

  KEYS: meta, history (of the run)
  O: ttl (lease ms), pinnedOnly? (take only a run pinned to O.build, see build-pin), cacheFence? and cacheLastId? (the caller's cached state), runId? (the
     expected run; any current run when absent), requestId (a resent copy returns the lease it
     took, see lease-memo), workflowId, idx

  Returns
    {NOT_RUNNING, status}          not running (or not the expected run): nothing to do
    {BUSY}                         another task holds a valid lease (it will see new events)
    {WRONG_BUILD, build, priority, fence}   the run is pinned to another build: its task goes to
                                   that build's queue (at the run's priority, 0 for the default;
                                   the fence tells one state of the run from the next); build ''
                                   (pinnedOnly, a run not pinned): back to the shared queue
    {NOT_DUE, inMs, priority}      a debounced run whose start time is inMs away (Redis' clock):
                                   its task came early (the caller adds it again for then, at the run's
                                   priority, 0 for the default)
    {ACQUIRED, fence, full, entries}   lease taken (see acquireLease)
]]
--- @include "now"
--- @include "due-check"
--- @include "acquire-lease"
--- @include "lease-memo"
local memo = leaseMemo(KEYS[1], O.requestId)
if memo then return leaseAgain(KEYS[1], KEYS[2], memo, nowMs()) end
local status = redis.call('HGET', KEYS[1], M.status)
if status ~= 'running' then return {R.NOT_RUNNING, status or 'missing'} end
if O.runId and redis.call('HGET', KEYS[1], M.runId) ~= O.runId then return {R.NOT_RUNNING, 'other-run'} end
local now = nowMs()
local startAt = tonumber(redis.call('HGET', KEYS[1], M.startAt) or '')
if startAt and startAt > now then return {R.NOT_DUE, startAt - now, tonumber(redis.call('HGET', KEYS[1], M.priority) or '0')} end
local acquired = acquireLease(KEYS[1], KEYS[2], now, O.ttl, O.cacheFence, O.cacheLastId)
if acquired and acquired[1] == R.WRONG_BUILD then return acquired end
if acquired then
  setLeaseMemo(KEYS[1], O.requestId, {R.ACQUIRED, acquired[2]})
  return acquired
end
return {R.BUSY}
