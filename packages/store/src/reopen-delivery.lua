-- Moves a delivery back to 'pending' only if it is in one of the given states; returns 1 if moved.
-- Two recover calls racing cannot both reopen (and so both queue) the same delivery.
-- KEYS: delivery; ARGV: nowMs, state...
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
for i = 2, #ARGV do
  if state == ARGV[i] then
    redis.call('HSET', KEYS[1], 'state', 'pending', 'updatedAt', ARGV[1])
    redis.call('HDEL', KEYS[1], 'failureReason', 'nextAttemptAt')
    return 1
  end
end
return 0
