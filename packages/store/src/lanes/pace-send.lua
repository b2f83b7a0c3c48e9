-- When a rate-limited endpoint's next request may leave: admission spaces its deliveries by
-- L.spacing (1020/perSecond ms), but the way from admission to the socket (the queue, a worker) has jitter
-- that can bunch two of them. The worker asks here just before sending and waits the answer out:
-- sends are spaced by the limit across every worker, and the wait is only that jitter. Loaded
-- after lanes.lua.
-- A wait longer than maxWaitMs is not the path's jitter but a limit lowered after these deliveries
-- were admitted: its turn is not taken, and the worker parks the delivery until then rather than
-- hold a slot for it.
-- ARGV: schedPrefix, nowMs, endpointId, maxWaitMs
-- Returns the milliseconds to wait (0 when the endpoint has no limit or its turn has come).
L.init(ARGV[1], ARGV[2])
local maxWait = tonumber(ARGV[4])
local meta = L.key('ep', ARGV[3])
local limit = redis.call('HMGET', meta, 'rate', 'sent')
local rate = tonumber(limit[1])
if not rate or rate <= 0 then
  return 0
end
local at = math.max(tonumber(limit[2]) or 0, L.now)
local wait = math.ceil(at - L.now)
if maxWait and wait > maxWait then
  return wait
end
redis.call('HSET', meta, 'sent', at + L.spacing(rate))
return wait
