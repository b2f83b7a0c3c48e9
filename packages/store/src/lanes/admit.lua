-- Admits ready deliveries of one lane class in fair order, for a worker to turn into BullMQ jobs.
-- Loaded after lanes.lua. No KEYS: the keys depend on what it reads (see lanes.lua).
-- ARGV: schedPrefix, nowMs, class ('fast'|'slow'), waitKey (the class's BullMQ wait list),
--       target (how long that list may grow), max (deliveries this call admits at most),
--       capEndpoint, capSubscriber (deliveries admitted and not ended, per endpoint and per
--       subscriber in this class), leaseMs, capSleepMs (the longest a member sleeps at a cap
--       before it is looked at again), heldMaxMs (a place held this long is taken as lost),
--       quantum (deliveries one endpoint's turn admits at most), retentionMs (a delivery created
--       longer ago than this has outlived its event; 0: not known), capBytes (payload bytes one
--       subscriber's deliveries admitted and not ended may hold in this class; 0 or absent: no
--       bound), eventKeyPrefix (an event's key is this and its id: its length is a delivery's size),
--       storedKeyPrefix (a subscriber's stored-bytes key is this, its id and `:stored`; '' or absent:
--       not looked at)
-- Returns {nextDueMs or -1, then per admitted delivery: jobId, eventId, endpointId, manual}.
-- Each admitted delivery holds a place against its caps (and its payload's bytes against its
-- subscriber's) from here until it ends or leaves BullMQ again, and a lease until the caller has
-- added its job (it removes the lease in the same transaction); a lease that runs out puts the
-- delivery back at the head of its lane.
--
-- A subscriber a tenth over its stored-bytes limit (stored-bytes.lua: what it wrote within the
-- retention period, against the limit its publishes were last made under; its publishes are
-- refused from the limit itself) is held: it sleeps ('stored') and none of its deliveries is
-- admitted, so its attempts (its retries, in the main) stop adding to what Redis keeps for it. It
-- is looked at again when the sleep ends, and woken at once when the admin changes its limit
-- (set-stored-bytes-limit.lua).
--
-- A turn serves the subscriber with the lowest tag, then its endpoint with the lowest tag, and
-- admits up to `quantum` of that endpoint's deliveries with one command each for the lane, the
-- entries and the places held, before both move one tag on: fairness in units of `quantum`
-- deliveries, at a few Redis commands per turn rather than per delivery.
L.init(ARGV[1], ARGV[2])
local now = L.now
local c = ARGV[3]
local room = math.min(tonumber(ARGV[6]), tonumber(ARGV[5]) - redis.call('LLEN', ARGV[4]) - redis.call('ZCARD', L.key('leases', c)))
local capE, capS = tonumber(ARGV[7]), tonumber(ARGV[8])
local leaseMs, capSleepMs, heldMaxMs = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local quantum = tonumber(ARGV[12])
local retention = tonumber(ARGV[13]) or 0
local expiredBefore = retention > 0 and now - retention or nil
local capBytes = tonumber(ARGV[14]) or 0
local eventKeyPrefix = ARGV[15] or ''
local storedPrefix = ARGV[16] or ''

-- Whether subscriber `s` is held for its stored bytes (StoredBytes.holdAt: a tenth over the limit
-- its publishes are refused at). Needs the retention period to know what has outlived it.
local function overStored(s)
  if storedPrefix == '' or retention <= 0 then
    return false
  end
  local used, limit = StoredBytes.usage(storedPrefix .. s .. ':stored', now, retention)
  return limit > 0 and used >= StoredBytes.holdAt(limit)
end

-- The delivery ids of lane `members` and, for each member still its delivery's current ticket, its
-- entry (false for a stale member: its delivery moved on). One HMGET for them all.
local function currentEntries(members)
  local ids = {}
  for i, member in ipairs(members) do
    ids[i] = string.match(member, '^(.+)-%d+$') or member
  end
  local values = redis.call('HMGET', L.key('d'), unpack(ids))
  local entries = {}
  for i, member in ipairs(members) do
    local x = values[i] and L.parse(values[i])
    local _, t = L.split(member)
    entries[i] = (x and x.ticket == t) and x or false
  end
  return ids, entries
end

-- How many of the first `max` members of `lane` a rate limit need not pace: deliveries created
-- before `expiredBefore` (their events are gone, so the worker only ends them: processor.ts) and
-- stale members (their delivery moved on). Without this a backlog the rate cannot drain (a limit
-- of 0.01/s under a steady publisher) outlived its events in the lane without bound.
local function unpacedAtHead(lane, max)
  if not expiredBefore then
    return 0
  end
  local members = redis.call('LRANGE', lane, 0, max - 1)
  if #members == 0 then
    return 0
  end
  local _, entries = currentEntries(members)
  for i, x in ipairs(entries) do
    if x and tonumber(x.createdAt) >= expiredBefore then
      return i - 1
    end
  end
  return #members
end

L.catchUp()

local out = { -1 }
local admitted = 0
local ring = L.key('ring', c)
local leases = L.key('leases', c)
-- Places held, per key, purged of lost ones once per call.
local heldCount = {}
local function held(key)
  if not heldCount[key] then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - heldMaxMs)
    heldCount[key] = redis.call('ZCARD', key)
  end
  return heldCount[key]
end

-- A delivery's size: its event's stored length (the payload as stored, with ~150 bytes of id, type
-- and time around it), read once per event per call: a fan-out's deliveries share their event. An
-- event gone (expired) is 0: the worker ends its delivery without sending it.
local sizes = {}
local function sizeOf(eventId)
  if not sizes[eventId] then
    sizes[eventId] = redis.call('STRLEN', eventKeyPrefix .. eventId)
  end
  return sizes[eventId]
end

-- The payload bytes subscriber `s` holds in this class (L.heldBytesKey), summed once per call. A
-- field whose delivery no longer holds a place in `heldS` was left by a release that did not know
-- about bytes (a worker of the version before, during a rolling deploy) or by the purge of lost
-- places above: it is dropped here, so the books cannot leak and starve the subscriber.
local bytesCount = {}
local function heldBytes(s, heldS)
  if not bytesCount[s] then
    local key = L.heldBytesKey(c, s)
    if redis.call('HLEN', key) > held(heldS) then
      local ids = redis.call('HKEYS', key)
      for i = 1, #ids, 1000 do
        local piece = { unpack(ids, i, math.min(i + 999, #ids)) }
        local scores = redis.call('ZMSCORE', heldS, unpack(piece))
        local gone = {}
        for j, id in ipairs(piece) do
          if not scores[j] then
            gone[#gone + 1] = id
          end
        end
        if #gone > 0 then
          redis.call('HDEL', key, unpack(gone))
        end
      end
    end
    local sum = 0
    for _, v in ipairs(redis.call('HVALS', key)) do
      sum = sum + (tonumber(v) or 0)
    end
    bytesCount[s] = sum
  end
  return bytesCount[s]
end

-- How many of `members` (popped from the head of a lane, their `entries` as currentEntries reads
-- them) fit in their subscriber's bytes: in order, while the bytes held stay within capBytes, and
-- always the first when the subscriber holds none (a payload larger than the bound goes, alone).
-- Stale members and expired events weigh nothing. Also answers each member's size, and the size
-- of the first that did not fit.
local function fitBytes(s, heldS, members, entries)
  local weights = {}
  if capBytes <= 0 then
    return #members, weights
  end
  local total = heldBytes(s, heldS)
  for i = 1, #members do
    local x = entries[i]
    local size = x and sizeOf(x.eventId) or 0
    if size > 0 and total > 0 and total + size > capBytes then
      return i - 1, weights, size
    end
    total = total + size
    weights[i] = size
  end
  return #members, weights
end

-- Why a subscriber over its bytes sleeps: until what it holds falls to half the bound, and to
-- what lets its next delivery (`nextSize` bytes; 0: not known) go; to 0 when that delivery alone
-- is larger than the bound. Waking at the first delivery to end instead (as at the count cap)
-- admitted one large delivery per admission: with 1 MiB payloads and the 8 MiB bound, a fan-out
-- of 2,000 beside ~300 small deliveries took 939 admissions, each with its job adds; 799 now
-- (scripts/probe-fanout-bytes.ts).
local function bytesWhy(nextSize)
  return 'bytes:' .. math.max(0, math.min(math.floor(capBytes / 2), capBytes - nextSize))
end

local lastTag = nil
-- Every turn either admits, or takes one member out of a ring (asleep, empty, or only stale
-- elements), so the loop ends; the bound only caps one call's work when many members sleep.
local turns = 0
while admitted < room and turns < room * 4 + 200 do
  turns = turns + 1
  local head = redis.call('ZRANGE', ring, 0, 0, 'WITHSCORES')
  local s = head[1]
  if not s then
    break
  end
  local tag = tonumber(head[2])
  lastTag = tag
  local heldS = L.key('held', 's', c, s)
  local subRing = L.key('ring', c, s)
  if held(heldS) >= capS then
    L.sleepSubscriber(s, c, now + capSleepMs, 'cap')
  elseif capBytes > 0 and heldBytes(s, heldS) >= capBytes then
    L.sleepSubscriber(s, c, now + capSleepMs, bytesWhy(0))
  elseif overStored(s) then
    L.sleepSubscriber(s, c, now + capSleepMs, 'stored')
  else
    local ehead = redis.call('ZRANGE', subRing, 0, 0, 'WITHSCORES')
    local e = ehead[1]
    if not e then
      redis.call('ZREM', ring, s)
    else
      local heldE = L.key('held', 'e', e)
      local meta = L.key('ep', e)
      local limit = redis.call('HMGET', meta, 'rate', 'tat')
      local rate, tat = tonumber(limit[1]), tonumber(limit[2]) or 0
      local lane = L.key('lane', e)
      local n = math.min(room - admitted, quantum, capE - held(heldE), capS - held(heldS))
      if n <= 0 then
        L.sleepEndpoint(e, s, c, now + capSleepMs, 'cap')
      elseif rate and rate > 0 and tat > now then
        -- Rate limited (GCRA, no burst): the next delivery may go at `tat`.
        L.sleepEndpoint(e, s, c, tat, 'rate')
      else
        -- Rate limited: one delivery at the rate, unless the head holds deliveries it need not pace.
        local paced = rate and rate > 0
        if paced then
          local unpaced = unpacedAtHead(lane, n)
          if unpaced > 0 then
            n, paced = unpaced, false
          else
            n = 1
          end
        end
        local members = redis.call('LPOP', lane, n)
        local ids, entries, fit, weights, nextSize
        if members then
          ids, entries = currentEntries(members)
          fit, weights, nextSize = fitBytes(s, heldS, members, entries)
          if fit < #members then
            -- What does not fit goes back to the head of the lane, in its order.
            local back = {}
            for i = #members, fit + 1, -1 do
              back[#back + 1] = members[i]
            end
            redis.call('LPUSH', lane, unpack(back))
          end
        end
        if not members then
          L.leaveRing(e, s, c)
        elseif fit == 0 then
          -- Over its bytes: the subscriber sleeps until its deliveries ending in this class have
          -- freed enough (L.release, bytesWhy). Nothing was admitted, so no tag moves.
          L.sleepSubscriber(s, c, now + capSleepMs, bytesWhy(nextSize))
        else
          redis.call('HINCRBY', L.key('stats'), 'ready', -fit)
          local heldArgs, leaseArgs, bytesArgs = {}, {}, {}
          for i = 1, fit do
            local member, x = members[i], entries[i]
            if x then
              heldArgs[#heldArgs + 1] = now
              heldArgs[#heldArgs + 1] = ids[i]
              leaseArgs[#leaseArgs + 1] = now + leaseMs
              leaseArgs[#leaseArgs + 1] = member
              if weights[i] then
                bytesArgs[#bytesArgs + 1] = ids[i]
                bytesArgs[#bytesArgs + 1] = weights[i]
                bytesCount[s] = bytesCount[s] + weights[i]
              end
              out[#out + 1] = member
              out[#out + 1] = x.eventId
              out[#out + 1] = x.endpointId
              out[#out + 1] = x.manual
            end
          end
          local got = #heldArgs / 2
          if got > 0 then
            redis.call('ZADD', heldE, unpack(heldArgs))
            redis.call('ZADD', heldS, unpack(heldArgs))
            redis.call('ZADD', leases, unpack(leaseArgs))
            if #bytesArgs > 0 then
              redis.call('HSET', L.heldBytesKey(c, s), unpack(bytesArgs))
            end
            heldCount[heldE] = heldCount[heldE] + got
            heldCount[heldS] = heldCount[heldS] + got
            admitted = admitted + got
            if paced then
              redis.call('HSET', meta, 'tat', math.max(tat, now) + L.spacing(rate))
            end
          end
          -- Served (or only stale elements popped): the endpoint and the subscriber move one tag on.
          if redis.call('LLEN', lane) > 0 then
            redis.call('ZADD', subRing, 'XX', tonumber(ehead[2]) + 1, e)
          else
            redis.call('ZREM', subRing, e)
          end
          if redis.call('ZCARD', subRing) > 0 then
            redis.call('ZADD', ring, 'XX', tag + 1, s)
          else
            redis.call('ZREM', ring, s)
          end
        end
      end
    end
  end
end
if lastTag then
  redis.call('SET', L.key('vt', c), lastTag)
end

out[1] = L.nextDue() or -1
return out
