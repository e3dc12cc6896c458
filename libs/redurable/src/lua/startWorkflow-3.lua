--[[
  Starts a workflow run: creates its meta hash and first history event, atomically.

  KEYS[1] meta hash      KEYS[2] history stream of the new run      KEYS[3] done set of the new run
  ARGV[1] runId          ARGV[2] workflowType    ARGV[3] taskQueue  ARGV[4] WorkflowExecutionStarted JSON

  Returns
    {1, streamId}        started
    {-1, runningRunId}   a run with this workflow id is still running; nothing was written
]]
--- @include "now"
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'running' then
  return {-1, redis.call('HGET', KEYS[1], 'runId')}
end
local now = nowMs()
redis.call('DEL', KEYS[1])
local id = redis.call('XADD', KEYS[2], '*', 'i', 1, 'e', ARGV[4])
redis.call('HSET', KEYS[1],
  'type', ARGV[2], 'status', 'running', 'runId', ARGV[1], 'taskQueue', ARGV[3],
  'startedAt', now, 'len', 1, 'dirty', 1, 'fence', 0, 'lease', '', 'leaseExp', 0)
return {1, id}
