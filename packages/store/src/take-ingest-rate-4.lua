-- Counts one request to a source's ingest URL in fixed one-second and one-minute windows, the
-- source's own and its subscriber's (across all of its sources), and says which window, if any,
-- refuses it. Every request counts in all four, refused ones too, so a sender that ignores 429
-- stays limited. A refusing window is marked once (its first refusal), beside its counter: only
-- that one is recorded in a history, so a flood of refused requests is not a Redis write each.
-- KEYS: 1 the source's second counter, 2 the source's minute counter,
--       3 the subscriber's second counter, 4 the subscriber's minute counter
-- ARGV: 1 the source's limit a second, 2 the source's limit a minute,
--       3 the subscriber's limit a second, 4 the subscriber's limit a minute,
--       5 how long a second counter is kept (ms), 6 how long a minute counter is kept (ms)
-- Returns 0 when admitted, else {the refusing KEYS index (1-4), 1 when it is that window's first refusal else 0}.
local kept = { tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[5]), tonumber(ARGV[6]) }
local counts = {}
for i = 1, 4 do
  counts[i] = redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], kept[i])
end
for i = 1, 4 do
  if counts[i] > tonumber(ARGV[i]) then
    local first = redis.call('SET', KEYS[i] .. ':refused', '1', 'PX', kept[i], 'NX')
    return { i, first and 1 or 0 }
  end
end
return 0
