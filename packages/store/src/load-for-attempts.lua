-- What the worker reads before attempts, for several deliveries in one call (DeliveryStore gathers
-- the attempts that start in one event-loop turn): each delivery's record, its event, its
-- scheduler entry (whose ticket says whether the job at hand is still the delivery's) and its
-- endpoint's version (bumped by every change: a worker's cached copy older than it is not used).
-- KEYS: laneEntries, then per delivery: delivery, event, endpointVersion
-- ARGV: per delivery: deliveryId
-- Returns, per delivery, the record's field/value list (empty when it has none yet), the event's
-- JSON (false when it has expired), the scheduler entry (false when the delivery is not live) and
-- the endpoint's version (false before its first change).
-- The deliveries of one call often share an endpoint (a job is one endpoint's turn) or an event (a
-- fan-out): each key is read once per call.
local read = {}
local function get(key)
  local value = read[key]
  if value == nil then
    value = redis.call('GET', key)
    read[key] = value
  end
  return value
end
local replies = {}
for i = 2, #KEYS, 3 do
  replies[#replies + 1] = redis.call('HGETALL', KEYS[i])
  replies[#replies + 1] = get(KEYS[i + 1])
  replies[#replies + 1] = redis.call('HGET', KEYS[1], ARGV[(i + 1) / 3])
  replies[#replies + 1] = get(KEYS[i + 2])
end
return replies
