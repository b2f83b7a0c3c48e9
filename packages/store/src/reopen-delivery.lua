-- Moves a delivery back to 'pending' only if it is in one of the given states and has the number of
-- attempts the caller read; returns 1 if moved. Two recover calls racing cannot both reopen (and so
-- both queue) the same delivery, and a caller acting on a read taken before another retry ran cannot
-- reopen it either: its job id (`<id>-m<attempts+1>`) would name that earlier retry's job, which
-- BullMQ refuses as a duplicate, leaving the delivery pending with no job.
-- KEYS: delivery; ARGV: nowMs, expectedAttempts, state...
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
if (redis.call('HGET', KEYS[1], 'attempts') or '0') ~= ARGV[2] then return 0 end
for i = 3, #ARGV do
  if state == ARGV[i] then
    redis.call('HSET', KEYS[1], 'state', 'pending', 'updatedAt', ARGV[1])
    redis.call('HDEL', KEYS[1], 'failureReason', 'nextAttemptAt')
    return 1
  end
end
return 0
