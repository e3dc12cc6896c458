--[[
  A schedule's lock: one pass at a time reads and writes the schedule's state. Its value is the
  owner, its Redis ttl `leaseTtl`, renewed by its holder (a holder that dies lets go within a
  ttl). By `op`:
    take     free or already this owner's: (re)taken for `ttl` ms
    renew    this owner's: extended to `ttl` ms from now; refused when it expired or is
             another's (a renewal never takes a lock back: the pass lost it)
    release  this owner's: dropped (another owner's is left alone)

  KEYS: lock
  O: op, owner, ttl (take, renew)

  Returns OK, or BUSY (take: another owner holds it; renew: it is not this owner's). A copy
  resent after a lost reply answers as the first run did: take and renew find the lock this
  owner's, release finds it gone or another's and leaves it.
]]
local holder = redis.call('GET', KEYS[1])
if O.op == 'take' then
  if holder and holder ~= O.owner then return R.BUSY end
  redis.call('SET', KEYS[1], O.owner, 'PX', O.ttl)
  return R.OK
end
if holder ~= O.owner then
  if O.op == 'release' then return R.OK end
  return R.BUSY
end
if O.op == 'renew' then
  redis.call('PEXPIRE', KEYS[1], O.ttl)
else
  redis.call('DEL', KEYS[1])
end
return R.OK
