-- Writes an endpoint's scheduling settings (its subscriber and rate limit), with the endpoint: a
-- changed limit applies to the deliveries already waiting at once. Its pacing state starts over
-- (the next delivery may go now), and an endpoint asleep for its old limit wakes. Loaded after
-- lanes.lua.
-- ARGV: schedPrefix, nowMs, endpointId, subscriberId, perSecond ('' for no limit)
L.init(ARGV[1], ARGV[2])
local e, s, rate = ARGV[3], ARGV[4], ARGV[5]
local meta = L.key('ep', e)
redis.call('HSET', meta, 'sid', s)
redis.call('PERSIST', meta)
local old = redis.call('HGET', meta, 'rate') or ''
if old == rate then
  return 0
end
if rate == '' then
  redis.call('HDEL', meta, 'rate')
else
  redis.call('HSET', meta, 'rate', rate)
end
redis.call('HDEL', meta, 'tat', 'sent')
local member = L.endpointMember(e, s)
if redis.call('HGET', L.key('sleep-why'), member) == 'rate' then
  L.wake(member)
end
return 1
