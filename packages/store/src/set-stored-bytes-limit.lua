-- Records the stored-bytes limit now in force for a subscriber (StoredBytes.setLimit, from
-- stored-bytes.lua, loaded ahead of this script with lanes.lua): the admin's own for it, read here
-- from its limits hash as create-event.lua reads it, else the default the caller sent. And wakes
-- the subscriber where admission put it to sleep for its stored bytes (admit.lua, 'stored'), so
-- that a raised limit lets its deliveries go at once rather than at the end of the sleep.
-- KEYS: the subscriber's stored-bytes key, its limits hash.
-- ARGV: schedPrefix, nowMs, retentionMs, defaultLimit, subscriberId
L.init(ARGV[1], ARGV[2])
local own = redis.call('HGET', KEYS[2], 'maxStoredBytes')
StoredBytes.setLimit(KEYS[1], L.now, tonumber(ARGV[3]), tonumber(own or '') or tonumber(ARGV[4]))
for _, c in ipairs({ 'fast', 'slow' }) do
  local member = L.subscriberMember(ARGV[5], c)
  if redis.call('HGET', L.key('sleep-why'), member) == 'stored' then
    L.wake(member)
    L.signal(c)
  end
end
return 1
