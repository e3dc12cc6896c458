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
     it replaces the meta's map and index entries; absent: none), retentionMs, cancelChannel, closedChannel,
     flow? (the new run's flow record JSON: given for a closed run of a type with a concurrency
     limit, whose slot was freed at its close; the new run waits for one again), workflowId, idx

  The old run ends through closeRunForReset (see close-run.lua) and the new one starts as a
  continue-as-new does (startNextRun), with the kept events as its history.

  A copy resent after a lost reply finds the new history and writes nothing.

  Returns
    {OK, reset}     the new run exists; reset = 1 when it closed a running run
    {RETRY}         the current run or its history changed since the caller read it: read and retry
]]
--- @include "now"
--- @include "append-events"
--- @include "close-run"
--- @include "next-run"
--- @include "search-index"
local meta = KEYS[1]
if redis.call('EXISTS', KEYS[4]) == 1 then
  -- A copy resent after a lost reply: whether the first closed a running run is in the old run's last event.
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
  local closed = last and last[2][4] and string.find(last[2][4], O.newRunId, 1, true) and cjson.decode(last[2][4]).type == 'WorkflowExecutionReset'
  return {R.OK, closed and 1 or 0}
end
if redis.call('HGET', meta, M.runId) ~= O.oldRunId then return {R.RETRY} end
if tonumber(redis.call('HGET', meta, M.historyLength) or '0') ~= tonumber(O.expectLen) then return {R.RETRY} end
local now = nowMs()
local wasRunning = closeRunForReset(meta, KEYS[2], KEYS[3], ARGV[2], O.retentionMs, O.cancelChannel, O.closedChannel, O.workflowId)
for i = 3, #ARGV do
  addEntry(KEYS[4], i - 2, ARGV[i])
end
if #O.done > 0 then redis.call('SADD', KEYS[5], unpack(O.done)) end
-- A closed run's meta was kept only for the retention; the new run keeps it.
redis.call('PERSIST', meta)
startNextRun(meta, O.newRunId, #ARGV - 2, now, O.workflowId)
setSearchAttributes(meta, O.workflowId, O.sa)
-- A running run's slot (or its place in line) goes on with the new run; a closed one's was freed.
if O.flow and not wasRunning then
  redis.call('HSET', meta, M.flow, O.flow, M.flowWait, 1)
  redis.call('ZADD', O.idx .. I.flowWaiting, now, O.workflowId)
end
return {R.OK, wasRunning and 1 or 0}
