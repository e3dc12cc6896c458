--[[
  The steady-state step in one script. A worker that holds the workflow's execution in its
  cache has already fed it the activity's (or timer's) outcome; this records that outcome
  and the commands it produced together, provided nobody touched the workflow since the
  worker's last task (lease free, fence unchanged). Otherwise it records only the outcome,
  like appendCompletion, and the worker falls back to a normal task. "Nobody touched it" means:
  lease free, fence unchanged, and no event (signal, cancellation, another outcome) appended
  since that task, so the worker saw every event in history order.

  KEYS[1] meta hash   KEYS[2] history stream   KEYS[3] done set
  KEYS[4] history of the next run (continue-as-new; = KEYS[2] otherwise)
  ARGV[1] runId       ARGV[2] seq              ARGV[3] outcome event JSON
  ARGV[4] the worker's cached fence            ARGV[5] lease ttl ms
  ARGV[6] close status ('' | completed | failed | compensation_failed | canceled | continued)
  ARGV[7] close value       ARGV[8] closed channel    ARGV[9] workflowId
  ARGV[10] dispatch mark: '' | 'set'          ARGV[11] retention of a closed run, ms
  ARGV[12] index prefix     ARGV[13] next runId       ARGV[14] the next run's Started JSON
  ARGV[15] request id (a resent copy returns the first reply, see lease-memo)
  ARGV[16..] command event JSONs

  Returns
    {5, fence, lastId}           outcome and commands committed under a new fence; lease free
    {0} | {1} | {3} | {2, ...}   as appendCompletion: ignored, recorded (lease busy),
                                 recorded (needs a task), recorded and lease taken
]]
--- @include "now"
--- @include "due-check"
--- @include "acquire-lease"
--- @include "append-events"
--- @include "set-status"
--- @include "close-run"
--- @include "continue-run"
--- @include "lease-memo"
--- @include "append-outcome"
local meta = KEYS[1]
local now = nowMs()
local memo = leaseMemo(meta, ARGV[15])
if memo then
  if memo[1] == 5 then return memo end
  local again = leaseAgain(meta, KEYS[2], memo, now)
  if again[1] == 2 then return again end
  -- the lease it took has expired meanwhile: as for any duplicate
  return afterOutcome(meta, KEYS[2], 'dup', true, now, tonumber(ARGV[5]), '', '', ARGV[15])
end
if redis.call('HGET', meta, 'status') ~= 'running' or redis.call('HGET', meta, 'runId') ~= ARGV[1] then
  return {0}
end
local lease = redis.call('HGET', meta, 'lease')
local leaseFree = (not lease) or lease == '' or tonumber(redis.call('HGET', meta, 'leaseExp') or '0') <= now
local fence = tonumber(redis.call('HGET', meta, 'fence'))
if leaseFree and fence == tonumber(ARGV[4]) and redis.call('HGET', meta, 'dirty') ~= '1' then
  if redis.call('SADD', KEYS[3], ARGV[2]) == 0 then return {0} end
  fence = redis.call('HINCRBY', meta, 'fence', 1)
  local lastId = appendEvents(meta, KEYS[2], {ARGV[3]}, 1, '')
  lastId = appendEvents(meta, KEYS[2], ARGV, 16, lastId)
  if ARGV[6] == 'continued' then
    continueRun(meta, KEYS[2], KEYS[3], KEYS[4], ARGV[13], ARGV[14], tonumber(ARGV[11]), now, ARGV[12], ARGV[9], '')
  elseif ARGV[6] ~= '' then
    closeRun(meta, KEYS[2], KEYS[3], ARGV[6], ARGV[7], tonumber(ARGV[11]), ARGV[8], ARGV[9], now, ARGV[12])
  else
    redis.call('HSET', meta, 'lease', '', 'dirty', 0)
    if ARGV[10] == 'set' then redis.call('HSET', meta, 'dispatchAt', now) end
    checkSoon(meta, now)
  end
  return setLeaseMemo(meta, ARGV[15], {5, fence, lastId})
end
-- Someone else moved the workflow on: record the outcome only, as appendCompletion does.
local appended = appendOutcome(meta, KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3])
return afterOutcome(meta, KEYS[2], appended, true, now, tonumber(ARGV[5]), '', '', ARGV[15])
