-- Creates an endpoint if its subscriber is under its endpoint quota: the count and the write in
-- one script, so concurrent creates cannot together pass the quota; with it, the scheduler's copy
-- of its subscriber and rate limit (L.configureEndpoint, lanes.lua, loaded ahead of this script).
-- KEYS: 1 endpoint record, 2 the subscriber's endpoint index (sorted set), 3 the subscriber's
--       endpoints version, 4 every live endpoint's id (set), 5 the disabled ones' (set;
--       endpoint-status-index.ts)
-- ARGV: 1 endpoint JSON, 2 endpoint id, 3 createdAt (ms), 4 the quota, 5 the endpoint-change
--       channel, 6 schedPrefix, 7 nowMs, 8 subscriber id, 9 perSecond ('' for no limit), 10 status
-- Returns 1 when created, 0 when the subscriber already has its quota of endpoints (nothing written).
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('INCR', KEYS[3])
redis.call('SADD', KEYS[4], ARGV[2])
if ARGV[10] == 'disabled' then
  redis.call('SADD', KEYS[5], ARGV[2])
end
L.init(ARGV[6], ARGV[7])
L.configureEndpoint(ARGV[2], ARGV[8], ARGV[9])
redis.call('PUBLISH', ARGV[5], ARGV[2])
return 1
