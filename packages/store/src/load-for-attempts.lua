-- What the worker reads before attempts, for several deliveries in one call (DeliveryStore gathers
-- the attempts that start in one event-loop turn): each delivery's record, its event and its
-- scheduler entry (whose ticket says whether the job at hand is still the delivery's).
-- KEYS: laneEntries, then per delivery: delivery, event
-- ARGV: per delivery: deliveryId
-- Returns, per delivery, the record's field/value list (empty when it has none yet), the event's
-- JSON (false when it has expired) and the scheduler entry (false when the delivery is not live).
local replies = {}
for i = 2, #KEYS, 2 do
  replies[#replies + 1] = redis.call('HGETALL', KEYS[i])
  replies[#replies + 1] = redis.call('GET', KEYS[i + 1])
  replies[#replies + 1] = redis.call('HGET', KEYS[1], ARGV[i / 2])
end
return replies
