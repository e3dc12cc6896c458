--[[
  Terminates a running run at once: records why, closes it as `terminated` without running
  any workflow code, and tells workers to abort its running activities.

  KEYS[1] meta hash   KEYS[2] history of the current run   KEYS[3] its done set
  ARGV[1] runId the caller read     ARGV[2] WorkflowExecutionTerminated JSON
  ARGV[3] index prefix   ARGV[4] workflowId   ARGV[5] closed channel   ARGV[6] cancel channel
  ARGV[7] retention ms   ARGV[8] request id: a second copy (resent after a lost reply) returns {1}

  Returns {1} terminated, {0, status} not running, {-9} the run changed: read and retry
]]
--- @include "now"
--- @include "due-check"
--- @include "set-status"
--- @include "close-run"
--- @include "requests"
if priorReply(KEYS[1], ARGV[8]) then return {1} end
local status = redis.call('HGET', KEYS[1], 'status')
if redis.call('HGET', KEYS[1], 'runId') ~= ARGV[1] then return {-9} end
if status ~= 'running' then return {0, status or 'missing'} end
local len = redis.call('HINCRBY', KEYS[1], 'len', 1)
redis.call('XADD', KEYS[2], '*', 'i', len, 'e', ARGV[2])
closeRun(KEYS[1], KEYS[2], KEYS[3], 'terminated', ARGV[2], tonumber(ARGV[7]), ARGV[5], ARGV[4], nowMs(), ARGV[3])
redis.call('PUBLISH', ARGV[6], 'terminate:' .. ARGV[4])
rememberReply(KEYS[1], ARGV[8], {1}, nowMs())
return {1}
