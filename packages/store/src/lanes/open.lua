-- The live deliveries of one endpoint, found from its own keys (lanes.lua): its retries' index in
-- the due set, its places held (admitted: an admission lease or a BullMQ job), and the head of its
-- lane. What disabling the endpoint ends (EndpointGuard): the cost is the endpoint's open
-- deliveries, never its history nor other endpoints' deliveries. Loaded after lanes.lua.
-- ARGV: schedPrefix, nowMs, endpointId, max (ids answered at most)
-- Returns delivery ids, each once: retries first (left alone, they would show `retrying` until
-- their time), then admitted ones, then the lane from its head. On the way, ids of the retry index
-- whose delivery is no longer live leave it, and stale members leave the head of the lane.
L.init(ARGV[1], ARGV[2])
local e = ARGV[3]
local max = tonumber(ARGV[4])
if not max or max < 1 then
  -- ZRANGE 0 -1 would be everything.
  return {}
end
local found, seen = {}, {}

-- Keeps the ids among `ids` whose delivery is live and this endpoint's; answers those that are not.
local function keepLive(ids)
  local gone = {}
  -- In pieces: unpack() of thousands of values would overflow Lua's stack.
  for i = 1, #ids, 1000 do
    local piece = { unpack(ids, i, math.min(i + 999, #ids)) }
    local values = redis.call('HMGET', L.key('d'), unpack(piece))
    for j, id in ipairs(piece) do
      local x = values[j] and L.parse(values[j])
      if not x or x.endpointId ~= e then
        gone[#gone + 1] = id
      elseif not seen[id] and #found < max then
        seen[id] = true
        found[#found + 1] = id
      end
    end
  end
  return gone
end

local gone = keepLive(redis.call('ZRANGE', L.dueOf(e), 0, max - 1))
for i = 1, #gone, 1000 do
  redis.call('ZREM', L.dueOf(e), unpack(gone, i, math.min(i + 999, #gone)))
end
if #found < max then
  keepLive(redis.call('ZRANGE', L.key('held', 'e', e), 0, max - #found - 1))
end
-- Pops members at the head of the lane whose delivery has moved on (an earlier disable forgot
-- them), at most `limit`: admission would only pop them too, and here they would take the place of
-- live ones, so a lane longer than `max` would never be reached past its first `max`.
local lane = L.key('lane', e)
local function popStaleHead(limit)
  local popped = 0
  while popped < limit do
    local members = redis.call('LRANGE', lane, 0, math.min(100, limit - popped) - 1)
    local stale = 0
    for _, member in ipairs(members) do
      if L.current(member) then
        break
      end
      stale = stale + 1
    end
    if stale > 0 then
      redis.call('LPOP', lane, stale)
      redis.call('HINCRBY', L.key('stats'), 'ready', -stale)
      popped = popped + stale
    end
    if stale < #members or #members == 0 then
      return
    end
  end
end

if #found < max then
  popStaleHead(max)
  local members = redis.call('LRANGE', lane, 0, max - #found - 1)
  local ids = {}
  for i, member in ipairs(members) do
    ids[i] = (L.split(member)) or member
  end
  keepLive(ids)
end
return found
