--[[
  Starts a workflow run, enforcing the id policies atomically; also signal-with-start.

  KEYS: meta, history and done of the new run, currentHistory and currentDone (of the run the
        caller read, for signal-with-start and TERMINATE_EXISTING; = the new run's otherwise),
        requests, requestTimes (the request log)
  ARGV[2]: the new run's WorkflowExecutionStarted JSON; ARGV[3]: the WorkflowExecutionTerminated
     JSON for TERMINATE_EXISTING; ARGV[4]: a SignalReceived JSON for signal-with-start ('' or absent
     otherwise); ARGV[5]: with debounce, the WorkflowStartDebounced JSON (without startAt) that
     replaces the input of a run of the id that is still waiting for its debounced start
  O: runId (new), type, taskQueue,
     reuse (for a closed id: ALLOW_DUPLICATE | ALLOW_DUPLICATE_FAILED_ONLY | REJECT_DUPLICATE),
     conflict (for a running id: FAIL | USE_EXISTING | TERMINATE_EXISTING),
     currentRunId? (the run the caller read), closedChannel,
     cancelChannel, retentionMs, parent? (JSON, for a child), requestId (of signal-with-start:
     its signal must be recorded once), checkAfterMs (when the recovery sweep looks after a
     change: the lease ttl), leaseTtl? (a new run's first task runs in the caller's process: the
     new run starts with its lease taken for the caller, see eager start), sa? (the new run's
     search attributes JSON: they replace the last run's in the indexes), priority? (the run's,
     when not the default: kept in the meta, continue-as-new and reset keep it), flow? (the run's
     flow record JSON: it waits for its concurrency slot, takes no task until flowGranted, and
     is listed as waiting; never with leaseTtl), debounce? (ms: a debounced start, never with
     leaseTtl, signal or flow: the run takes no task before now + debounce; a running run of the
     id still waiting for its debounced start, of the same type and task queue, takes this start's input and
     start time instead, never past its first start + maxWait?), maxWait? (ms), workflowId, idx

  A copy of this script resent after a lost reply writes nothing and returns the first reply:
  a new run is recognised by its history existing, a signal appended to the running run by the
  request log (see requests.lua).

  Returns
    {OK, runId}                  started a new run
    {OK, runId, fence, entryId}  started a new run whose lease the caller holds (leaseTtl given,
                                 no signal): the fence, and the stream id of its first event
    {OK, runId, startAt}         started a debounced run: its first task not before startAt
    {DEBOUNCED, runId, startAt, previousStartAt, priority}
                                 a debounced start replaced the input of the run still waiting
                                 for its debounced start, and moved its start time (priority:
                                 the run's, 0 for the default)
    {EXISTING, runId, wake}      the running run is used (USE_EXISTING, or signal-with-start
                                 appended the signal to it); wake = 1 when a workflow task must
                                 be enqueued
    {CONFLICT, runId}            a run is running and the conflict policy is FAIL; nothing written
    {REUSE_REJECTED, status}     the id's last run is closed and the reuse policy forbids a new one
    {RETRY}                      the current run changed since the caller read it: read and retry
]]
--- @include "now"
--- @include "due-check"
--- @include "lease-held"
--- @include "set-status"
--- @include "append-events"
--- @include "terminate-run"
--- @include "requests"
--- @include "lease-memo"
--- @include "search-index"
local meta = KEYS[1]
local started, terminated, signal = ARGV[2], ARGV[3], ARGV[4]
if signal == '' then signal = nil end
if redis.call('EXISTS', KEYS[2]) == 1 then
  -- A copy of a debounced start resent after a lost reply: the start time it set, while pending.
  local startAt = O.debounce and redis.call('HGET', meta, M.runId) == O.runId and redis.call('HGET', meta, M.startAt)
  if startAt then return {R.OK, O.runId, tonumber(startAt)} end
  -- A copy resent after a lost reply: the lease the first copy took is the caller's, while it is
  -- still that lease (the memo names it; any other lease-path script replaces the memo) and valid.
  local memo = O.leaseTtl and leaseMemo(meta, O.requestId)
  if memo and memo[1] == R.ACQUIRED and redis.call('HGET', meta, M.lease) == tostring(memo[2])
      and tonumber(redis.call('HGET', meta, M.leaseExp) or '0') > nowMs() then
    return {R.OK, O.runId, memo[2], redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1][1]}
  end
  return {R.OK, O.runId}
end
local prior = priorReply(KEYS[6], O.requestId)
if prior then return prior end
local status = redis.call('HGET', meta, M.status)
local current = redis.call('HGET', meta, M.runId) or ''
-- Only signal-with-start, TERMINATE_EXISTING and debounce write to the current run's history.
local needsCurrent = signal or O.conflict == 'TERMINATE_EXISTING' or O.debounce
if needsCurrent and current ~= (O.currentRunId or '') then return {R.RETRY} end
local now = nowMs()
if status == 'running' then
  if signal then
    appendFromOutside(meta, KEYS[4], signal, now)
    rememberReply(KEYS[6], KEYS[7], O.requestId, {R.EXISTING, current, 1}, now)
    return {R.EXISTING, current, leaseHeld(meta, now) and 0 or 1}
  end
  local pendingAt = O.debounce and redis.call('HGET', meta, M.startAt)
  if pendingAt and redis.call('HGET', meta, M.type) == O.type and redis.call('HGET', meta, M.taskQueue) == O.taskQueue then
    -- Debounced again before the run began: this start's input, and its start pushed back (up
    -- to the first start's maxWait; never earlier than already set).
    local startAt = now + O.debounce
    local by = tonumber(redis.call('HGET', meta, M.startBy) or '')
    if by and by < startAt then startAt = by end
    startAt = math.max(startAt, tonumber(pendingAt))
    appendFromOutside(meta, KEYS[4], string.sub(ARGV[5], 1, -2) .. ',"startAt":' .. startAt .. '}', now)
    redis.call('HSET', meta, M.startAt, startAt)
    local reply = {R.DEBOUNCED, current, startAt, tonumber(pendingAt), tonumber(redis.call('HGET', meta, M.priority) or '0')}
    rememberReply(KEYS[6], KEYS[7], O.requestId, reply, now)
    return reply
  end
  if O.conflict == 'USE_EXISTING' then return {R.EXISTING, current, 0} end
  if O.conflict ~= 'TERMINATE_EXISTING' then return {R.CONFLICT, current} end
  terminateRun(meta, KEYS[4], KEYS[5], 'terminated', terminated, O.retentionMs, O.closedChannel, O.cancelChannel, O.workflowId, now)
elseif status then
  if O.reuse == 'REJECT_DUPLICATE' then return {R.REUSE_REJECTED, status} end
  if O.reuse == 'ALLOW_DUPLICATE_FAILED_ONLY' and status == 'completed' then return {R.REUSE_REJECTED, status} end
end
if status then redis.call('ZREM', O.idx .. I.status .. status, O.workflowId) end
-- Fencing tokens keep growing across runs, so a stalled task of an old run can never match.
local fence = redis.call('HGET', meta, M.fence) or '0'
setSearchAttributes(meta, O.workflowId, nil) -- the last run's attributes leave the indexes
redis.call('DEL', meta)
local firstId = addEntry(KEYS[2], 1, started)
local len = 1
if signal then
  len = 2
  addEntry(KEYS[2], 2, signal)
end
redis.call('HSET', meta,
  M.type, O.type, M.runId, O.runId, M.taskQueue, O.taskQueue, M.startedAt, now, M.historyLength, len,
  M.dirty, 1, M.fence, fence, M.lease, '', M.leaseExp, 0, M.checkAfter, O.checkAfterMs)
checkSoon(meta, now)
if O.parent then redis.call('HSET', meta, M.parent, O.parent) end
if O.priority then redis.call('HSET', meta, M.priority, O.priority) end
if O.flow then
  redis.call('HSET', meta, M.flow, O.flow, M.flowWait, 1)
  redis.call('ZADD', O.idx .. I.flowWaiting, now, O.workflowId)
end
if O.sa then setSearchAttributes(meta, O.workflowId, O.sa) end
local startAt
if O.debounce then
  startAt = now + O.debounce
  redis.call('HSET', meta, M.startAt, startAt)
  if O.maxWait then redis.call('HSET', meta, M.startBy, now + O.maxWait) end
end
setStatus(meta, O.workflowId, 'running')
redis.call('ZADD', O.idx .. I.all, now, O.workflowId)
redis.call('ZADD', O.idx .. I.type .. O.type, now, O.workflowId)
if O.leaseTtl and not signal then
  -- Eager start: the lease of the first task, as acquireLease would take it. Should the caller
  -- die before its commit, the lease expires and the recovery sweep enqueues a task.
  local leased = tonumber(fence) + 1
  redis.call('HSET', meta, M.fence, leased, M.lease, leased, M.leaseExp, now + O.leaseTtl, M.dirty, 0)
  if O.build then redis.call('HSET', meta, M.taskBuild, O.build) end
  setLeaseMemo(meta, O.requestId, {R.ACQUIRED, leased})
  return {R.OK, O.runId, leased, firstId}
end
if startAt then return {R.OK, O.runId, startAt} end
return {R.OK, O.runId}
