--[[
  Starts a workflow run, enforcing the id policies atomically; also signal-with-start.

  KEYS[1] meta hash   KEYS[2] history of the new run   KEYS[3] done set of the new run
  KEYS[4] history of the current run, for signal-with-start and TERMINATE_EXISTING (the caller
          read its runId first); = KEYS[2] otherwise
  ARGV[1] new runId      ARGV[2] workflowType     ARGV[3] taskQueue
  ARGV[4] WorkflowExecutionStarted JSON
  ARGV[5] reuse policy for a closed id: ALLOW_DUPLICATE | ALLOW_DUPLICATE_FAILED_ONLY | REJECT_DUPLICATE
  ARGV[6] conflict policy for a running id: FAIL | USE_EXISTING | TERMINATE_EXISTING
  ARGV[7] current runId the caller read ('' when unknown or not needed)
  ARGV[8] index prefix   ARGV[9] workflowId
  ARGV[10] SignalReceived JSON for signal-with-start ('' otherwise)
  ARGV[11] WorkflowExecutionTerminated JSON (used by TERMINATE_EXISTING)
  ARGV[12] closed channel   ARGV[13] cancel channel   ARGV[14] retention of a closed run, ms
  ARGV[15] parent JSON ('' for a top-level workflow)
  ARGV[16] request id of signal-with-start (its signal must be recorded once)
  ARGV[17] checkAfter: ms after a change when the recovery sweep looks at the workflow (lease ttl)

  A copy of this script resent after a lost reply writes nothing and returns the first reply:
  a new run is recognised by its history (KEYS[2]) existing, a signal appended to the running
  run by the request log (see requests.lua).

  Returns
    {1, runId}            started a new run
    {2, runId, wake}      the running run is used (USE_EXISTING, or signal-with-start appended
                          the signal to it); wake = 1 when a workflow task must be enqueued
    {-1, runId}           a run is running and the conflict policy is FAIL; nothing written
    {-4, status}          the id's last run is closed and the reuse policy forbids a new one
    {-9}                  the current run changed since the caller read it: read and retry
]]
--- @include "now"
--- @include "due-check"
--- @include "set-status"
--- @include "close-run"
--- @include "requests"
local meta = KEYS[1]
if redis.call('EXISTS', KEYS[2]) == 1 then return {1, ARGV[1]} end
local prior = priorReply(meta, ARGV[16])
if prior then return prior end
local status = redis.call('HGET', meta, 'status')
local current = redis.call('HGET', meta, 'runId') or ''
-- Only signal-with-start and TERMINATE_EXISTING write to the current run's history (KEYS[4]).
local needsCurrent = ARGV[10] ~= '' or ARGV[6] == 'TERMINATE_EXISTING'
if needsCurrent and current ~= ARGV[7] then return {-9} end
local now = nowMs()
if status == 'running' then
  if ARGV[10] ~= '' then
    local len = redis.call('HINCRBY', meta, 'len', 1)
    redis.call('XADD', KEYS[4], '*', 'i', len, 'e', ARGV[10])
    redis.call('HSET', meta, 'dirty', 1)
    checkSoon(meta, now)
    local lease = redis.call('HGET', meta, 'lease')
    local busy = lease and lease ~= '' and tonumber(redis.call('HGET', meta, 'leaseExp') or '0') > now
    rememberReply(meta, ARGV[16], {2, current, 1}, now)
    return {2, current, busy and 0 or 1}
  end
  if ARGV[6] == 'USE_EXISTING' then return {2, current, 0} end
  if ARGV[6] ~= 'TERMINATE_EXISTING' then return {-1, current} end
  local len = redis.call('HINCRBY', meta, 'len', 1)
  redis.call('XADD', KEYS[4], '*', 'i', len, 'e', ARGV[11])
  local doneKey = string.gsub(KEYS[4], ':history$', ':done')
  closeRun(meta, KEYS[4], doneKey, 'terminated', ARGV[11], tonumber(ARGV[14]), ARGV[12], ARGV[9], now, ARGV[8])
  redis.call('PUBLISH', ARGV[13], 'terminate:' .. ARGV[9])
elseif status then
  if ARGV[5] == 'REJECT_DUPLICATE' then return {-4, status} end
  if ARGV[5] == 'ALLOW_DUPLICATE_FAILED_ONLY' and status == 'completed' then return {-4, status} end
end
if status then redis.call('ZREM', ARGV[8] .. 'status:' .. status, ARGV[9]) end
-- Fencing tokens keep growing across runs, so a stalled task of an old run can never match.
local fence = redis.call('HGET', meta, 'fence') or '0'
redis.call('DEL', meta)
local id = redis.call('XADD', KEYS[2], '*', 'i', 1, 'e', ARGV[4])
local len = 1
if ARGV[10] ~= '' then
  len = 2
  redis.call('XADD', KEYS[2], '*', 'i', 2, 'e', ARGV[10])
end
redis.call('HSET', meta,
  'type', ARGV[2], 'runId', ARGV[1], 'taskQueue', ARGV[3],
  'startedAt', now, 'len', len, 'dirty', 1, 'fence', fence, 'lease', '', 'leaseExp', 0, 'checkAfter', ARGV[17])
checkSoon(meta, now)
if ARGV[15] ~= '' then redis.call('HSET', meta, 'parent', ARGV[15]) end
setStatus(meta, ARGV[8], ARGV[9], 'running')
redis.call('ZADD', ARGV[8] .. 'all', now, ARGV[9])
redis.call('ZADD', ARGV[8] .. 'type:' .. ARGV[2], now, ARGV[9])
return {1, ARGV[1]}
