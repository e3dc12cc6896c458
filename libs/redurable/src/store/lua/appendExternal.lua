--[[
  Appends an event from outside the workflow (a signal, an update, a cancellation request) to the
  current run and wakes it.

  KEYS: meta, history (of the run the caller read), requests, requestTimes (the request log)
  ARGV[2]: the event JSON
  O: runId (the run the caller read), cancelChannel? (a cancellation request: publish
     'cancel:<workflowId>' on it; a debounced run still waiting begins at once), requestId (a second copy, resent after a lost reply, records
     nothing), workflowId, idx, expectLen? (an update: the history length its validator saw;
     any other length is RETRY, so the validation is redone on the current state)

  Returns
    {NOT_RUNNING, status}   the run is not running: nothing written
    {RETRY}                 the current run changed since the caller read it: read and retry
    {CHANGED}               (expectLen) the run's history grew since the caller read it: nothing written
    {OK}                    recorded; a task holds the lease and will see it
    {NEEDS_TASK}            recorded; the caller must enqueue a workflow task
]]
--- @include "now"
--- @include "due-check"
--- @include "lease-held"
--- @include "requests"
--- @include "append-events"
local now = nowMs()
if priorReply(KEYS[3], O.requestId) then return wakeReply(KEYS[1], now) end
local status = redis.call('HGET', KEYS[1], M.status)
if redis.call('HGET', KEYS[1], M.runId) ~= O.runId then return {R.RETRY} end
if status ~= 'running' then return {R.NOT_RUNNING, status or 'missing'} end
if O.expectLen and tonumber(redis.call('HGET', KEYS[1], M.historyLength)) ~= tonumber(O.expectLen) then return {R.CHANGED} end
appendFromOutside(KEYS[1], KEYS[2], ARGV[2], now)
if O.cancelChannel then
  redis.call('PUBLISH', O.cancelChannel, 'cancel:' .. O.workflowId)
  -- A debounced run not yet begun begins now, to be cancelled (a later start no longer pushes it back).
  redis.call('HDEL', KEYS[1], M.startAt, M.startBy)
end
rememberReply(KEYS[3], KEYS[4], O.requestId, {R.OK}, now)
return wakeReply(KEYS[1], now)
