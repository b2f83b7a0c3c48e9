-- What the worker reads before attempts, for several deliveries in one call (DeliveryStore gathers
-- the attempts that start in one event-loop turn): each delivery's record, its event, its
-- scheduler entry (whose ticket says whether the job at hand is still the delivery's) and its
-- endpoint's version (bumped by every change: a worker's cached copy older than it is not used).
-- KEYS: laneEntries, then per delivery: delivery, event, endpointVersion
-- ARGV: per delivery: deliveryId, then '1' for the event's JSON or '0' for only whether it exists
--   (the caller holds the event already: events never change once stored)
-- Returns, per delivery, the record's field/value list (empty when it has none yet), the event's
-- JSON or, for '0', 1 (false when it has expired, either way), the scheduler entry (false when the
-- delivery is not live) and the endpoint's version (false before its first change).
-- The deliveries of one call often share an endpoint (a job is one endpoint's turn) or an event (a
-- fan-out): each key is read once per call. An event of up to 1 MiB fanned out to 100 endpoints
-- was sent whole for each of them (~100 MiB of Redis's output an event): the caller asks for it
-- once ('0' for the rest of a call, and for events it holds from earlier calls).
local read = {}
local function get(key)
  local value = read[key]
  if value == nil then
    value = redis.call('GET', key)
    read[key] = value
  end
  return value
end
local function exists(key)
  local value = read[key]
  if value == nil then return redis.call('EXISTS', key) == 1 and 1 or false end
  return value and 1 or false
end
local replies = {}
for i = 2, #KEYS, 3 do
  local at = (i - 2) / 3 * 2 + 1 -- this delivery's id in ARGV
  replies[#replies + 1] = redis.call('HGETALL', KEYS[i])
  if ARGV[at + 1] == '0' then
    replies[#replies + 1] = exists(KEYS[i + 1])
  else
    replies[#replies + 1] = get(KEYS[i + 1])
  end
  replies[#replies + 1] = redis.call('HGET', KEYS[1], ARGV[at])
  replies[#replies + 1] = get(KEYS[i + 2])
end
return replies
