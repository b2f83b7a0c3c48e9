-- Writes an endpoint's scheduling settings (its subscriber and rate limit), with the endpoint: a
-- changed limit applies to the deliveries already waiting, and an endpoint asleep for its old
-- limit wakes to be looked at under the new one. Loaded after lanes.lua.
-- ARGV: schedPrefix, nowMs, endpointId, subscriberId, perSecond ('' for no limit)
L.init(ARGV[1], ARGV[2])
local e, s = ARGV[3], ARGV[4]
local meta = L.key('ep', e)
redis.call('HSET', meta, 'sid', s)
redis.call('PERSIST', meta)
if ARGV[5] == '' then
  redis.call('HDEL', meta, 'rate', 'tat')
else
  redis.call('HSET', meta, 'rate', ARGV[5])
end
local member = L.endpointMember(e, s)
if redis.call('HGET', L.key('sleep-why'), member) == 'rate' then
  -- The next token under the new limit may be due earlier (or, with no limit, now).
  redis.call('HDEL', meta, 'tat')
  L.wake(member)
end
return 1
