-- Admits n events for a subscriber that may publish `rate` events a second, with a second's worth
-- of burst (GCRA: the key holds the theoretical arrival time, TAT, of the subscriber's next event;
-- each admitted event moves it one interval, 1000/rate ms, later). A request of n events passes
-- when the budget holds n of them, or, for n above a second's worth, when it is full; the TAT may
-- then run ahead of now by more than a second (a debt), and later requests wait it out. So a
-- batch of any size is admitted once, and the long-run rate still holds.
-- KEYS: 1 the subscriber's TAT (string, epoch ms with decimals)
-- ARGV: 1 now (epoch ms), 2 rate (events a second, > 0), 3 n (events in this request, > 0)
-- Returns 0 when admitted, else how many ms until this request would be.
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local interval = 1000 / rate
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then
  tat = now
end
-- How far ahead of now the TAT may be for this request to pass (the budget it leaves unspent).
local allowance = (rate - math.min(n, rate)) * interval
local ahead = tat - now
-- 1 us of slack: the TAT is stored with three decimals.
if ahead > allowance + 0.001 then
  return math.max(1, math.ceil(ahead - allowance))
end
local nextTat = tat + n * interval
redis.call('SET', KEYS[1], string.format('%.3f', nextTat), 'PX', math.ceil(nextTat - now) + 1000)
return 0
