-- Moves a delivery back to 'pending' only if it is in one of the given states and has the number of
-- attempts the caller read, and puts it in its endpoint's lane for one more attempt (a person's
-- retry: lanes.lua, loaded ahead of this script); returns 1 if moved. Reopening and queueing are one
-- step, so a delivery is never left pending with nothing to attempt it. Two recover calls racing
-- cannot both reopen (and so both queue) the same delivery, and a caller acting on a read taken
-- before another retry ran cannot reopen it either.
-- KEYS: delivery; ARGV: schedPrefix, nowMs, expectedAttempts, state...
local fields = redis.call('HMGET', KEYS[1], 'state', 'attempts', 'id', 'eventId', 'endpointId', 'subscriberId')
local state = fields[1]
if not state then return 0 end
if (fields[2] or '0') ~= ARGV[3] then return 0 end
for i = 4, #ARGV do
  if state == ARGV[i] then
    redis.call('HSET', KEYS[1], 'state', 'pending', 'updatedAt', ARGV[2])
    redis.call('HDEL', KEYS[1], 'failureReason', 'nextAttemptAt')
    L.init(ARGV[1], ARGV[2])
    L.enqueue(fields[3], fields[4], fields[5], fields[6], ARGV[2], true)
    L.signal(L.class(fields[5]))
    return 1
  end
end
return 0
