-- Counts one request to a source's ingest URL in fixed one-second and one-minute windows, the
-- source's own and then its subscriber's (across all of its sources), and says which window, if
-- any, refuses it. Every request counts in its source's windows, refused ones too, so a sender that
-- ignores 429 stays limited. Only a request its source admits counts in the subscriber's: one
-- source flooded past its own limit must not spend the ceiling its other sources share (a flood of
-- 300 at one source with a limit of 50 used to leave the next request to another source refused).
-- A refusing window is marked once (its first refusal) beside its counter, the key
-- `<counter>:refused` (under the same prefix, so in the same cluster slot): only that refusal is
-- recorded in a history, so a flood of refused requests is not a Redis write each.
-- KEYS: 1 the source's second counter, 2 the source's minute counter,
--       3 the subscriber's second counter, 4 the subscriber's minute counter
-- ARGV: 1 the source's limit a second, 2 the source's limit a minute,
--       3 the subscriber's limit a second, 4 the subscriber's limit a minute,
--       5 how long a second counter is kept (ms), 6 how long a minute counter is kept (ms)
-- Returns 0 when admitted, else {the refusing KEYS index (1-4), 1 when it is that window's first refusal else 0}.
local kept = { tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[5]), tonumber(ARGV[6]) }

-- Counts in windows `from` and `from + 1`; the index of the first over its limit, or nil.
local function count(from)
  local refusing = nil
  for i = from, from + 1 do
    local n = redis.call('INCR', KEYS[i])
    redis.call('PEXPIRE', KEYS[i], kept[i])
    if not refusing and n > tonumber(ARGV[i]) then
      refusing = i
    end
  end
  return refusing
end

local refusing = count(1) or count(3)
if refusing then
  local first = redis.call('SET', KEYS[refusing] .. ':refused', '1', 'PX', kept[refusing], 'NX')
  return { refusing, first and 1 or 0 }
end
return 0
