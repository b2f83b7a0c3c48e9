-- Updates an endpoint's health after an attempt, atomically, and returns the failure streak.
-- KEYS: health (hash), outcomes (list of 1/0, newest first, last 100)
-- ARGV: nowMs, attemptOk (1|0), final ('delivered'|'failed'|'none')
local now = ARGV[1]
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, 99)
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'lastSuccessAt', now)
else
  redis.call('HSET', KEYS[1], 'lastFailureAt', now)
end
if ARGV[3] == 'delivered' then
  redis.call('HSET', KEYS[1], 'consecutiveFailures', 0)
  redis.call('HDEL', KEYS[1], 'failingSince')
elseif ARGV[3] == 'failed' then
  redis.call('HINCRBY', KEYS[1], 'consecutiveFailures', 1)
  redis.call('HSETNX', KEYS[1], 'failingSince', now)
end
return { tonumber(redis.call('HGET', KEYS[1], 'consecutiveFailures') or '0'), tonumber(redis.call('HGET', KEYS[1], 'failingSince') or '0') }
