-- A subscriber's work budget: a token bucket of `burst` units refilled at `rate` units a second,
-- charged after a request by the work it did (records read, deliveries reopened or created), so
-- it may go into debt: one large request is paid for by waiting afterwards, not refused halfway.
-- Kept as the time the bucket is full again (like take-publish-rate-1.lua's TAT): the balance at
-- `now` is burst - (full - now) * rate / 1000, so a bucket untouched for burst/rate seconds needs
-- no key at all. A charge of 0 only reads: the API calls it so before a heavy request.
-- KEYS: 1 the subscriber's work-budget state (string, epoch ms with decimals)
-- ARGV: 1 now (epoch ms), 2 rate (units a second, > 0), 3 burst (units, > 0), 4 cost (units, >= 0)
-- Returns 0 when the balance, after the charge, is positive, else how many ms until it is.
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local full = tonumber(redis.call('GET', KEYS[1]) or now) or now
if full < now then
  full = now
end
if cost > 0 then
  full = full + cost * 1000 / rate
  redis.call('SET', KEYS[1], string.format('%.3f', full), 'PX', math.ceil(full - now) + 1000)
end
-- The balance is positive while the bucket is less than a whole burst away from full.
local owed = full - now - burst * 1000 / rate
if owed >= 0 then
  return math.floor(owed) + 1
end
return 0
