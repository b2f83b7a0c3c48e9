-- Creates a source if its subscriber is under its source quota: the count and the write in one
-- script, so concurrent creates cannot together pass the quota.
-- KEYS: 1 source record, 2 the subscriber's source index (sorted set), 3 the ingest token lookup
-- ARGV: 1 source JSON, 2 source id, 3 createdAt (ms), 4 the quota
-- Returns 1 when created, 0 when the subscriber already has its quota of sources.
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('SET', KEYS[3], ARGV[2])
return 1
