-- Server time in milliseconds: every lease and timestamp uses Redis' clock, never a worker's.
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
