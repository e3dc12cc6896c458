--[[
  Appends the events a workflow task produced, fenced by the lease token, optionally closes
  the run (or continues it as new), and optionally releases the lease. A stale holder (fence
  moved on) writes nothing.

  The dispatch mark: a task that releases the lease before adding its jobs to BullMQ sets
  `dispatchAt`; if the process dies before the jobs exist, the recovery sweep sees an old
  mark and replays the workflow, which re-dispatches every outstanding command. Only a task
  that has re-dispatched everything outstanding (a replay) clears the mark.

  KEYS[1] meta hash   KEYS[2] history stream   KEYS[3] done set
  KEYS[4] history of the next run (continue-as-new; = KEYS[2] otherwise)
  ARGV[1] fence          ARGV[2] lease ttl ms     ARGV[3] release: 1 to release the lease
  ARGV[4] close status: '' | completed | failed | compensation_failed | canceled | continued
  ARGV[5] close value: result payload or failure JSON      ARGV[6] closed channel (pub/sub)
  ARGV[7] workflowId     ARGV[8] caller's last stream id (for returning new entries)
  ARGV[9] dispatch mark: '' (leave) | 'set' | 'clear'
  ARGV[10] retention of a closed run, ms (0 = keep forever)      ARGV[11] index prefix
  ARGV[12] next runId    ARGV[13] the next run's WorkflowExecutionStarted JSON
  ARGV[14] request id (a resent copy returns the first reply, see lease-memo)
  ARGV[15..] event JSONs to append, in order

  Returns
    {-3}                          lease lost: nothing written
    {1, lastId}                   committed (and released, or kept when release = 0)
    {2, lastId, entries}          committed; new events arrived meanwhile, lease kept, entries
                                  after the caller's last id are returned for the next round
]]
--- @include "now"
--- @include "due-check"
--- @include "append-events"
--- @include "set-status"
--- @include "close-run"
--- @include "continue-run"
--- @include "lease-memo"
local meta = KEYS[1]
local memo = leaseMemo(meta, ARGV[14])
if memo then
  if memo[1] == 2 then return {2, memo[2], redis.call('XRANGE', KEYS[2], '(' .. ARGV[8], memo[3])} end
  return memo
end
local fence = redis.call('HGET', meta, 'fence')
if redis.call('HGET', meta, 'status') ~= 'running' or fence ~= ARGV[1] or redis.call('HGET', meta, 'lease') ~= ARGV[1] then
  return {-3}
end
local now = nowMs()
local lastId = appendEvents(meta, KEYS[2], ARGV, 15, ARGV[8])
redis.call('HDEL', meta, 'taskFailure', 'taskAttempt', 'retryAt')
if ARGV[4] == 'continued' then
  continueRun(meta, KEYS[2], KEYS[3], KEYS[4], ARGV[12], ARGV[13], tonumber(ARGV[10]), now, ARGV[11], ARGV[7], ARGV[8])
  return setLeaseMemo(meta, ARGV[14], {1, lastId})
elseif ARGV[4] ~= '' then
  closeRun(meta, KEYS[2], KEYS[3], ARGV[4], ARGV[5], tonumber(ARGV[10]), ARGV[6], ARGV[7], now, ARGV[11])
  return setLeaseMemo(meta, ARGV[14], {1, lastId})
end
checkSoon(meta, now) -- the run goes on: the sweep looks at it one lease ttl from now
if ARGV[9] == 'set' then
  redis.call('HSET', meta, 'dispatchAt', now)
elseif ARGV[9] == 'clear' then
  redis.call('HDEL', meta, 'dispatchAt')
end
if ARGV[3] ~= '1' then
  redis.call('HSET', meta, 'leaseExp', now + tonumber(ARGV[2]))
  return setLeaseMemo(meta, ARGV[14], {1, lastId})
end
if redis.call('HGET', meta, 'dirty') == '1' then
  redis.call('HSET', meta, 'dirty', 0, 'leaseExp', now + tonumber(ARGV[2]))
  local entries = redis.call('XRANGE', KEYS[2], '(' .. ARGV[8], '+')
  local tail = entries[#entries]
  setLeaseMemo(meta, ARGV[14], {2, lastId, tail and tail[1] or ARGV[8]})
  return {2, lastId, entries}
end
redis.call('HSET', meta, 'lease', '')
return setLeaseMemo(meta, ARGV[14], {1, lastId})
