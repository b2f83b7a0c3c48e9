-- Appends an attempt to a delivery's history and moves its state, in one round trip.
-- KEYS: delivery, deliveryAttempts
-- ARGV: attemptJson, retentionMs, then field/value pairs for the delivery hash
-- Returns 0 (and writes nothing) when the delivery record has expired or never existed.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
local fields = {}
for i = 3, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
-- A field the new state does not name (say nextAttemptAt once delivered) must not linger.
redis.call('HDEL', KEYS[1], 'nextAttemptAt', 'failureReason')
redis.call('HSET', KEYS[1], unpack(fields))
return 1
