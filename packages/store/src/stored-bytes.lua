-- stored-bytes.lua: what one subscriber has written that Redis keeps for the retention period (its
-- events, their deliveries, their attempts), which StoredBytes (stored-bytes.ts) reads. Loaded ahead
-- of create-event.lua and record-attempts.lua, which charge what they write in the same call that
-- writes it, and of admit.lua, which holds a subscriber's deliveries while it is well over its limit.
--
-- Key (keys.ts: subscriberStoredBytes), a hash:
--   `t<start>` the bytes written in the window of `w` ms starting at <start> (ms since the epoch);
--   `u` their sum; `n` when the oldest window counted has outlived the retention period (the next
--   time the sum falls); `q` the limit the last publish or limit change was made under (0: none).
-- A window's bytes are counted until the last of its writes has outlived the retention period
-- (start + w + retention), so `u` is at least what the subscriber's records still hold: it counts
-- what was written, not what is left (an attempt list trimmed to its newest, a record rewritten).
-- Windows are a thirtieth of the retention period (at least a second), so the hash keeps at most
-- ~32 of them and the sum falls a day at a time under the 30-day default. The key expires with its
-- newest window: an idle subscriber keeps nothing.
--
-- A call charges what it writes (StoredBytes.charge) and writes the charges once, at its end
-- (StoredBytes.flush): a batch of 1,000 events is two commands, not 2,000.

local StoredBytes = {}

-- Per key, for this call: {u = sum, q = limit, n = next fall, pending = bytes not yet written,
-- at = the time they are charged at}, once read and rolled.
local storedState = {}
local storedOrder = {}

local function storedWindowMs(retention)
  return math.max(1000, math.ceil(retention / 30))
end

-- When a window starting at `t` has outlived the retention period: its last write's time and that.
local function storedWindowEnd(t, retention)
  return t + storedWindowMs(retention) + retention
end

-- The key's windows: {t = start, n = bytes}, in no order.
local function storedWindows(key)
  local all = redis.call('HGETALL', key)
  local windows = {}
  for i = 1, #all, 2 do
    local t = tonumber(string.match(all[i], '^t(%d+)$'))
    if t then
      windows[#windows + 1] = { t = t, n = tonumber(all[i + 1]) or 0 }
    end
  end
  return windows
end

-- The key's state at `now`, the windows that have outlived the retention period dropped from the
-- sum: only when one has (`n`), so once per window at most.
local function storedRoll(key, now, retention)
  local state = storedState[key]
  if state then
    return state
  end
  local h = redis.call('HMGET', key, 'u', 'n', 'q')
  state = { u = tonumber(h[1]) or 0, n = tonumber(h[2]), q = tonumber(h[3]) or 0, pending = 0, at = now, retention = retention }
  -- A key that does not exist is not written here: a read (admission's) must not leave one behind.
  if h[1] and (not state.n or now >= state.n) then
    local gone = {}
    local nextFall = nil
    for _, x in ipairs(storedWindows(key)) do
      local ends = storedWindowEnd(x.t, retention)
      if ends <= now then
        gone[#gone + 1] = 't' .. x.t
        state.u = state.u - x.n
      elseif not nextFall or ends < nextFall then
        nextFall = ends
      end
    end
    if #gone > 0 then
      redis.call('HDEL', key, unpack(gone))
    end
    state.u = math.max(0, state.u)
    local was = tonumber(h[1])
    if nextFall then
      redis.call('HSET', key, 'u', state.u, 'n', nextFall)
    elseif was ~= 0 or state.n then
      -- Nothing counted any more (written once: an emptied key read again writes nothing).
      redis.call('HSET', key, 'u', 0)
      redis.call('HDEL', key, 'n')
    end
    state.n = nextFall
  end
  storedState[key] = state
  return state
end

-- Bytes the subscriber of `key` has written within the retention period (this call's charges
-- included), and its limit as last recorded (0: none).
function StoredBytes.usage(key, now, retention)
  local state = storedRoll(key, now, retention)
  return state.u, state.q
end

-- What a delivery's publish pays for its first attempt (its attempt's JSON and its record, ~1.2 KB
-- for a usual one), so that accepting it leaves room to attempt it: record-attempts.lua charges a
-- first attempt only what it writes beyond this.
StoredBytes.FIRST_ATTEMPT_BYTES = 1500

-- Where admission holds a subscriber: a tenth above the limit publishes are refused at, so that the
-- first attempts of the deliveries it was told were accepted, and the margin of those that cost more
-- than their publish paid for, go on (a subscriber that publishes up to its limit is not frozen by
-- its own accepted work); what holds it then is retries.
function StoredBytes.holdAt(limit)
  return limit + math.floor(limit / 10)
end

-- Records the limit a caller acts under, when it differs from the one recorded: admission reads it
-- from here (workers have no copy of a subscriber's limits).
function StoredBytes.setLimit(key, now, retention, limit)
  local state = storedRoll(key, now, retention)
  if state.q ~= limit then
    redis.call('HSET', key, 'q', limit)
    if state.u == 0 and state.pending == 0 then
      -- A key with nothing counted: it lives as long as a window would.
      redis.call('PEXPIRE', key, retention + 2 * storedWindowMs(retention))
    end
    state.q = limit
  end
end

-- Whether `bytes` more would take the subscriber over `limit` (0: no limit), and if so how long
-- until enough of what it wrote has outlived the retention period for them to fit (-1: never,
-- `bytes` alone being over the limit).
function StoredBytes.wait(key, now, retention, limit, bytes)
  local state = storedRoll(key, now, retention)
  if limit <= 0 or state.u + bytes <= limit then
    return nil
  end
  if bytes > limit then
    return -1
  end
  local w = storedWindowMs(retention)
  local windows = storedWindows(key)
  -- This call's own charges, not written yet, fall with the window they will be written in (listed
  -- beside it when it is written already: the two fall together).
  if state.pending > 0 then
    windows[#windows + 1] = { t = state.at - state.at % w, n = state.pending }
  end
  table.sort(windows, function(x, y)
    return x.t < y.t
  end)
  local over = state.u + bytes - limit
  for _, x in ipairs(windows) do
    over = over - x.n
    if over <= 0 then
      return math.max(1, storedWindowEnd(x.t, retention) - now)
    end
  end
  return w + retention
end

-- Counts `bytes` written at `now` towards the subscriber's sum, at once for this call's checks;
-- written to the key by StoredBytes.flush.
function StoredBytes.charge(key, now, retention, bytes)
  if bytes <= 0 then
    return
  end
  local state = storedRoll(key, now, retention)
  if state.pending == 0 then
    storedOrder[#storedOrder + 1] = key
  end
  state.pending = state.pending + bytes
  state.u = state.u + bytes
end

-- Writes this call's charges, each key's in the window of its first charge. A window's first
-- charge sets when the key expires (its end), and the next fall when none is set.
function StoredBytes.flush()
  for _, key in ipairs(storedOrder) do
    local state = storedState[key]
    local start = state.at - state.at % storedWindowMs(state.retention)
    local ends = storedWindowEnd(start, state.retention)
    if redis.call('HINCRBY', key, 't' .. start, state.pending) == state.pending then
      -- From the caller's clock, as every time here; later only (a process whose clock runs behind
      -- must not cut the newer windows short).
      local ttl = math.max(1, ends - state.at)
      redis.call('PEXPIRE', key, ttl, 'NX')
      redis.call('PEXPIRE', key, ttl, 'GT')
    end
    redis.call('HINCRBY', key, 'u', state.pending)
    -- The next fall is the oldest window's end: a process whose clock runs behind may write one
    -- older than those counted.
    if not state.n or ends < state.n then
      redis.call('HSET', key, 'n', ends)
      state.n = ends
    end
    state.pending = 0
  end
  storedOrder = {}
end
