-- A subscriber's work budget: a token bucket of at most `burst` units refilled at `rate` units a
-- second, charged after a request by the work it did (records read, deliveries reopened or
-- written), so it may go into debt: one large request is paid for by waiting afterwards, not cut
-- short. The balance is kept in units, not time, so an admin who raises the rate shortens a debt.
-- A bucket untouched until it is full again needs no key (it expires then). A charge of 0 only
-- reads: the API calls it so before a heavy request.
-- KEYS: 1 the subscriber's work-budget state (hash: b balance in units, t when, epoch ms)
-- ARGV: 1 now (epoch ms), 2 rate (units a second, > 0), 3 burst (units, > 0), 4 cost (units, >= 0)
-- Returns 0 when the balance, after the charge, is positive, else how many ms until it is.
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'b', 't')
local balance = burst
if state[1] and state[2] then
  local since = math.max(0, now - tonumber(state[2]))
  balance = math.min(burst, tonumber(state[1]) + since * rate / 1000)
end
if cost > 0 then
  balance = balance - cost
  redis.call('HSET', KEYS[1], 'b', string.format('%.3f', balance), 't', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], math.ceil((burst - balance) * 1000 / rate) + 1000)
end
if balance > 0 then
  return 0
end
-- Positive just after -balance / rate seconds.
return math.floor(-balance * 1000 / rate) + 1
