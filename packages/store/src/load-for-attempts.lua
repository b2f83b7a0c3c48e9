-- What the worker reads before attempts, for several deliveries in one call (DeliveryStore gathers
-- the attempts that start in one event-loop turn): each delivery's record and its event.
-- KEYS, per delivery: delivery, event
-- Returns, per delivery, the record's field/value list (empty when it has none yet) and the
-- event's JSON (false when it has expired).
local replies = {}
for i = 1, #KEYS, 2 do
  replies[#replies + 1] = redis.call('HGETALL', KEYS[i])
  replies[#replies + 1] = redis.call('GET', KEYS[i + 1])
end
return replies
