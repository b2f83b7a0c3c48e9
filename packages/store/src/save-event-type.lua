-- Creates or updates one operator-defined event type, with its state entry, the catalog's byte
-- count and its version, all at once. An update applies only at the revision the caller read, so two
-- overlapping PATCHes cannot silently undo each other. Limits are checked before the first write.
-- KEYS[1] records hash (type -> record JSON), KEYS[2] states hash (type -> state JSON),
-- KEYS[3] catalog version (a counter), KEYS[4] catalog size in bytes (a counter)
-- ARGV[1] type, ARGV[2] 'create' or 'update', ARGV[3] expected revision (update only),
-- ARGV[4] record JSON, ARGV[5] state JSON, ARGV[6] most types, ARGV[7] most bytes
-- Returns {'ok', version} | {'exists'} | {'missing'} | {'conflict', currentRevision} | {'too_many'} | {'too_large'}
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if ARGV[2] == 'create' then
  if existing then return {'exists'} end
  if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[6]) then return {'too_many'} end
else
  if not existing then return {'missing'} end
  local current = tostring(cjson.decode(existing)['revision'])
  if current ~= ARGV[3] then return {'conflict', current} end
end
local bytes = tonumber(redis.call('GET', KEYS[4]) or '0') - redis.call('HSTRLEN', KEYS[1], ARGV[1]) + string.len(ARGV[4])
if bytes > tonumber(ARGV[7]) then return {'too_large'} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
redis.call('SET', KEYS[4], bytes)
return {'ok', redis.call('INCR', KEYS[3])}
