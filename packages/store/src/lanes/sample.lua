-- What the scheduler holds, for the metrics sampler. Loaded after lanes.lua.
-- ARGV: schedPrefix, nowMs, maxLanes (lane heads looked at for the oldest waiting delivery)
-- Returns {ready, due, sleeping, slowEndpoints, oldestCreatedAt or -1}: deliveries in lanes,
-- retries not yet due, endpoints and subscribers asleep, endpoints in the slow lane, and the
-- creation time of the oldest delivery at the head of a lane (over at most maxLanes lanes, those
-- in the rings first, then sleeping ones).
L.init(ARGV[1], ARGV[2])
local budget = tonumber(ARGV[3])
local oldest = -1
local function look(e)
  if budget <= 0 then
    return
  end
  budget = budget - 1
  local member = redis.call('LINDEX', L.key('lane', e), 0)
  if member then
    local x = L.current(member)
    if x and (oldest < 0 or tonumber(x.createdAt) < oldest) then
      oldest = tonumber(x.createdAt)
    end
  end
end
-- Each read stops once the budget is spent: ZRANGE 0 -1 (budget 0) would read a whole ring or the
-- whole sleep set, every sample (a review read it).
for _, c in ipairs({ 'fast', 'slow' }) do
  if budget > 0 then
    for _, s in ipairs(redis.call('ZRANGE', L.key('ring', c), 0, budget - 1)) do
      if budget <= 0 then
        break
      end
      for _, e in ipairs(redis.call('ZRANGE', L.key('ring', c, s), 0, budget - 1)) do
        look(e)
      end
    end
  end
end
if budget > 0 then
  for _, member in ipairs(redis.call('ZRANGE', L.key('sleep'), 0, budget - 1)) do
    local e = string.match(member, '^e|[^|]+|(.+)$')
    if e then
      look(e)
    end
  end
end
return {
  tonumber(redis.call('HGET', L.key('stats'), 'ready') or '0'),
  redis.call('ZCARD', L.key('due')) + tonumber(redis.call('HGET', L.key('stats'), 'due') or '0'),
  redis.call('ZCARD', L.key('sleep')),
  redis.call('SCARD', L.key('slow')),
  oldest,
}
