--[[
  Resets a workflow: a new run of the same id whose history is the current run's up to a
  reset point (with signals received after it, when asked), run by the current code. A running
  run is closed with WorkflowExecutionReset naming the new run (its running activities are
  told to abort); a closed one is left as it ended. The meta goes on with the new run, as for
  continue-as-new: its parent, fence and indexes are kept, and it waits for its first task.

  KEYS: meta, oldHistory, oldDone (of the run the caller read), newHistory, newDone (of the new run)
  ARGV[2]: the WorkflowExecutionReset JSON (recorded only if the old run is running);
  ARGV[3..]: the new run's events, in order (its WorkflowExecutionStarted first)
  O: oldRunId, newRunId, expectLen (the old run's history length the caller read), done (seqs
     whose outcome the kept events hold), sa? (the search attributes JSON the kept events leave:
     it replaces the meta's map and index entries; absent: none), retentionMs, cancelChannel, closedChannel, workflowId, idx

  A copy resent after a lost reply finds the new history and writes nothing.

  Returns
    {OK, reset}     the new run exists; reset = 1 when it closed a running run
    {RETRY}         the current run or its history changed since the caller read it: read and retry
]]
--- @include "now"
--- @include "due-check"
--- @include "set-status"
--- @include "search-index"
local meta = KEYS[1]
if redis.call('EXISTS', KEYS[4]) == 1 then
  -- A copy resent after a lost reply: whether the first closed a running run is in the old run's last event.
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
  local closed = last and last[2][4] and string.find(last[2][4], O.newRunId, 1, true) and cjson.decode(last[2][4]).type == 'WorkflowExecutionReset'
  return {R.OK, closed and 1 or 0}
end
if redis.call('HGET', meta, 'runId') ~= O.oldRunId then return {R.RETRY} end
if tonumber(redis.call('HGET', meta, 'len') or '0') ~= tonumber(O.expectLen) then return {R.RETRY} end
local now = nowMs()
local wasRunning = redis.call('HGET', meta, 'status') == 'running'
if wasRunning then
  local len = redis.call('HINCRBY', meta, 'len', 1)
  redis.call('XADD', KEYS[2], '*', 'i', len, 'e', ARGV[2])
  redis.call('PUBLISH', O.cancelChannel, 'terminate:' .. O.workflowId)
end
-- Whoever waits for the old run's result follows the reset to the new run.
redis.call('PUBLISH', O.closedChannel, O.workflowId)
if O.retentionMs > 0 then
  redis.call('PEXPIRE', KEYS[2], O.retentionMs)
  redis.call('PEXPIRE', KEYS[3], O.retentionMs)
end
for i = 3, #ARGV do
  redis.call('XADD', KEYS[4], '*', 'i', i - 2, 'e', ARGV[i])
end
if #O.done > 0 then redis.call('SADD', KEYS[5], unpack(O.done)) end
-- A closed run's meta was kept only for the retention; the new run keeps it.
redis.call('PERSIST', meta)
redis.call('HSET', meta, 'runId', O.newRunId, 'startedAt', now, 'len', #ARGV - 2, 'dirty', 1, 'lease', '', 'leaseExp', 0)
redis.call('HDEL', meta, 'dispatchAt', 'taskFailure', 'taskAttempt', 'retryAt', 'closeValue', 'closedAt', 'hasChildren')
setStatus(meta, O.workflowId, 'running')
setSearchAttributes(meta, O.workflowId, O.sa)
checkSoon(meta, now)
return {R.OK, wasRunning and 1 or 0}
