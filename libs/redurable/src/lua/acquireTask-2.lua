--[[
  Takes the workflow-task lease of a running workflow.

  KEYS[1] meta hash   KEYS[2] history stream of the current run
  ARGV[1] lease ttl ms   ARGV[2] cached fence ('' if none)   ARGV[3] cached last stream id ('' if none)
  ARGV[4] expected runId ('' for whatever run is current)
  ARGV[5] request id (a resent copy returns the lease it took, see lease-memo)

  Returns
    {0, status}                 not running (or not the expected run): nothing to do
    {-2}                        another task holds a valid lease (it will see new events)
    {2, fence, full, entries}   lease taken (see acquireLease)
]]
--- @include "now"
--- @include "due-check"
--- @include "acquire-lease"
--- @include "lease-memo"
local memo = leaseMemo(KEYS[1], ARGV[5])
if memo then return leaseAgain(KEYS[1], KEYS[2], memo, nowMs()) end
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' then return {0, status or 'missing'} end
if ARGV[4] ~= '' and redis.call('HGET', KEYS[1], 'runId') ~= ARGV[4] then return {0, 'other-run'} end
local acquired = acquireLease(KEYS[1], KEYS[2], nowMs(), tonumber(ARGV[1]), ARGV[2], ARGV[3])
if acquired then
  setLeaseMemo(KEYS[1], ARGV[5], {2, acquired[2]})
  return acquired
end
return {-2}
