-- Stores events (each once) and their new deliveries, one per endpoint, unless the pair has one
-- already; appends each to its history logs; takes each event's idempotency key with the event
-- itself. One call for all the events of a transaction: a batch of 1,000 is one command, not
-- 1,000, and each log's expiry is renewed once, not once per event.
-- KEYS: first the shared keys (ARGV[9] of them): per subscriber of the call, its subscriberEvents,
--       subscriberDeliveries and endpointsVersion (bumped by EndpointStore with every endpoint
--       change); per endpoint of the call, its endpointDeliveries. Then per event: event, and its
--       idempotency key when it has one. A delivery's key and where an earlier version would have
--       queued it (packages/queue's QueuedDeliveries.jobKey) are built here from its id, so a
--       batch sends a subscriber's and an endpoint's keys once, not once per event.
-- ARGV: retentionMs, nowMs, schedPrefix, schedule ('1': into the lanes; '0': a send made on the
--       spot, which the caller attempts itself), idempotencyTtlMs, storedKeyPrefix (a subscriber's
--       stored-bytes key is this, its id and `:stored`; '': nothing charged), deliveryKeyPrefix,
--       jobKeyPrefix, sharedKeyCount, then per event: group,
--       requestDigest ('' without an idempotency key), eventJson ('' for a replay: the event is
--       stored already and only its new deliveries are written), eventId, createdAt,
--       subscriberId, type, endpointCount, fanOutVersion (the endpoints version its endpoints
--       were read at; '' when not to be checked), storedLimit (the bytes a subscriber may keep
--       written within the retention period by default, stored-bytes.lua, unless the admin set its
--       own: `maxStoredBytes` in its limits hash, `<storedKeyPrefix><id>:limits`; '': not checked;
--       0: no limit), subscriberKeysAt (where its subscriber's three shared keys start in KEYS),
--       then per endpoint: deliveryId, endpointId, endpointLogAt (its endpointDeliveries in KEYS)
-- Returns, per event: {'new', {1 (created) or 0 (existed) per endpoint}}, {'repeat', eventId,
-- endpointIds} (its key names an earlier event with the same request digest: nothing written;
-- endpointIds, comma-separated, are the endpoints that event's publish created deliveries for, absent
-- for a key written before they were kept, or for a key named earlier in the same group), {'reused'}
-- (its key names an earlier event with another digest), {'skipped'} (another event of its group
-- was 'reused'), {'stale'} (its group's endpoints changed since the caller read them: nothing
-- of the group is written, and the caller reads them again) or {'stored', used, limit, waitMs}
-- (what its group would write takes its subscriber over its stored-bytes limit: nothing of the
-- group is written; waitMs is how long until it would fit, -1 never).
--
-- Stored bytes (stored-bytes.lua, loaded ahead of this script): each event written counts its JSON,
-- EVENT_BYTES and twice its type, each new delivery DELIVERY_BYTES (its first attempt paid ahead),
-- each idempotency key taken IDEMPOTENCY_BYTES, towards its subscriber's sum, in the call that
-- writes them; the limit is checked per group against what the group would write at most, before
-- any of it is written.
--
-- The fan-out check lets a publisher keep a subscriber's endpoints between publishes without
-- asking Redis whether they changed first (a GET, and a round trip, before every publish): the
-- version is compared here, atomically with the write, which is as fresh as a read can be.
--
-- Idempotency (Stripe's and the IETF Idempotency-Key draft's rules): a key is taken in the same
-- script that writes its event, so a key is held exactly when its event exists (a crash can leave
-- neither half). Its value is `<eventId>|<digest>`. A group (one request) is all or nothing: its
-- keys are all checked before anything of it is written (Redis does not roll a script back), and
-- one key reused with another request (another digest) writes nothing of the group. A key
-- repeated inside a group names the group's first event that carries it. Callers never split a
-- group across calls (delivery-store.ts). Beside the key, `<key>:eps` (same expiry) holds the
-- endpoints the event's deliveries were created for (`ep_a,ep_b`), so that a repeat is answered
-- without looking the event's deliveries up in the history, which costs up to thousands of reads
-- (endpoints deleted or replayed to since): a batch of 1,000 repeats did that 1,000 times. A key
-- without it was written by an earlier version, whose processes still read the key's own value
-- (so it keeps its format, for a rolling deploy or a rollback).
--
-- A new delivery writes no record of its own: until its first attempt, the delivery is its entry
-- in the scheduler (lanes.lua, loaded ahead of this script: it names the event and the endpoint,
-- and puts the delivery at the tail of its endpoint's lane) and its log entries, and the worker
-- writes the record with that attempt (record-attempts.lua). So a pair "has a delivery" when its
-- record or its scheduler entry exists (or, for one queued by an earlier version, its BullMQ job);
-- delivery-store.ts reads a pending one from its entry. Nor is there a list of an event's
-- deliveries: their ids derive from the event and the endpoints (history-store.ts). Once anything
-- joined a lane, the lane signal wakes a waiting worker.
-- The history logs are streams whose entry ids start with the time written (history-log.ts, which
-- loads log-entry.lua ahead of this script); the first append to a log here also trims what is
-- older than the retention period, and every log written gets its expiry renewed once. An event's
-- entry carries its type (`t`) and createdAt (`c`) beside its id: a listing of events shows and
-- filters by those and never reads the event, whose payload may be 1 MB (history-store.ts).
local retention = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
L.init(ARGV[3], now)
local schedule = ARGV[4] == '1'
local idempotencyTtl = tonumber(ARGV[5])
local storedPrefix = ARGV[6] or ''
-- What a record costs Redis beside its own bytes (keys, log entries, a waiting delivery's entry
-- and job: ~770 B measured for a delivery, docs/performance.md), counted as stored bytes; a
-- delivery also pays for its first attempt ahead (StoredBytes.FIRST_ATTEMPT_BYTES).
-- An event's type is written again beside its JSON (its history log entry's `t` field), and an
-- idempotency key is two keys with their expiries (the key and `<key>:eps`: ~232 + ~168 B of Redis
-- memory measured). Counted at 200 and 200 flat, an audit's events of 200-character types held
-- 1.47x what they were charged for the retention period, keyed ones 1.63-1.79x for a day. The type
-- counts twice, its copy and a margin as large (a 200-character one: 987 B charged, 792 held); a
-- key counts for the retention period's windows, though it lasts a day.
local EVENT_BYTES, IDEMPOTENCY_BYTES = 250, 480
-- What event `a` (the start of its arguments) counts as written: its JSON, EVENT_BYTES, its type twice.
local function eventBytes(a)
  return #ARGV[a + 2] + EVENT_BYTES + 2 * #ARGV[a + 6]
end
local DELIVERY_BYTES = 700 + StoredBytes.FIRST_ATTEMPT_BYTES
local oldest = math.max(now - retention, 0)
local touched = {}

local function append(key, ms, id, extra)
  -- The first append to a log in this call also trims it (appendLogEntry, from log-entry.lua).
  local first = not touched[key]
  appendLogEntry(key, ms, id, first and oldest or nil, extra)
  if first then
    touched[key] = true
    touched[#touched + 1] = key
  end
end

local deliveryPrefix = ARGV[7]
local jobPrefix = ARGV[8]

-- A delivery's id, endpoint and endpoint log key: the i-th (from 0) of the event whose arguments start at `a`.
local function deliveryOf(a, i)
  local at = a + 11 + i * 3
  return ARGV[at], ARGV[at + 1], KEYS[tonumber(ARGV[at + 2])]
end

-- Whether a pair has a delivery already: its record, or its job queued by an earlier version.
local function recorded(id)
  return redis.call('EXISTS', deliveryPrefix .. id, jobPrefix .. id) ~= 0
end

-- Every event's keys and place in ARGV, read before anything is written.
local events = {}
local k = tonumber(ARGV[9]) + 1
local a = 10
while a <= #ARGV do
  local count = tonumber(ARGV[a + 7])
  local digest = ARGV[a + 1]
  local shared = tonumber(ARGV[a + 10])
  events[#events + 1] = {
    a = a, group = ARGV[a], digest = digest, id = ARGV[a + 3], count = count, fanOut = ARGV[a + 8],
    key = KEYS[k], idempotencyKey = digest ~= '' and KEYS[k + 1] or nil,
    eventsLog = KEYS[shared], deliveriesLog = KEYS[shared + 1], versionKey = KEYS[shared + 2],
    stored = storedPrefix ~= '' and storedPrefix .. ARGV[a + 5] .. ':stored' or nil,
    limit = tonumber(ARGV[a + 9]),
  }
  k = k + (digest ~= '' and 2 or 1)
  a = a + 11 + count * 3
end

-- Whether an event's endpoints changed since its publisher read them (a missing version is '0',
-- as EndpointStore reads it). Read once per subscriber: a batch's events share theirs.
local versions = {}
local function stale(e)
  if e.fanOut == '' then
    return false
  end
  local key = e.versionKey
  versions[key] = versions[key] or redis.call('GET', key) or '0'
  return versions[key] ~= e.fanOut
end

-- Who holds an idempotency key now: {id, digest}, or nil. A value without a digest was written by
-- an earlier version (which took keys before writing the event): it holds only if its event exists.
local function holder(e)
  local value = redis.call('GET', e.idempotencyKey)
  if not value then
    return nil
  end
  local id, digest = string.match(value, '^([^|]+)|(.+)$')
  if id then
    return { id = id, digest = digest }
  end
  local eventKey = e.key
  if redis.call('EXISTS', string.sub(eventKey, 1, #eventKey - #e.id) .. value) == 1 then
    return { id = value, digest = nil }
  end
  return nil
end

-- New deliveries per endpoint, pushed onto its lane in one command at the end.
local lanes, laneOrder, laneSubscriber = {}, {}, {}
local function write(e)
  local aa = e.a
  local bytes = 0
  -- An empty event is a replay's: the event is stored already, only deliveries are written.
  -- An event stored just now has no delivery yet: their ids derive from its id, which the API
  -- made new (publisher.ts), so its pairs need not be looked up one by one.
  local fresh = false
  if ARGV[aa + 2] ~= '' and redis.call('SET', e.key, ARGV[aa + 2], 'PX', retention, 'NX') then
    append(e.eventsLog, ARGV[aa + 4], e.id, { 't', ARGV[aa + 6], 'c', ARGV[aa + 4] })
    bytes = eventBytes(aa)
    fresh = true
  end
  local created = {}
  local createdFor = {}
  local subscriberId = ARGV[aa + 5]
  for i = 0, e.count - 1 do
    local id, endpointId, endpointLog = deliveryOf(aa, i)
    local new = false
    if fresh or not recorded(id) then
      if schedule then
        -- HSETNX: the entry is written only if the delivery is not live already.
        local member = L.create(id, e.id, endpointId, subscriberId, now)
        if member then
          if not lanes[endpointId] then
            lanes[endpointId] = {}
            laneOrder[#laneOrder + 1] = endpointId
            laneSubscriber[endpointId] = subscriberId
          end
          lanes[endpointId][#lanes[endpointId] + 1] = member
          new = true
        end
      else
        new = not L.live(id)
      end
    end
    if new then
      append(e.deliveriesLog, now, id)
      append(endpointLog, now, id)
      createdFor[#createdFor + 1] = endpointId
      bytes = bytes + DELIVERY_BYTES
    end
    created[#created + 1] = new and 1 or 0
  end
  if e.digest ~= '' then
    redis.call('SET', e.idempotencyKey, e.id .. '|' .. e.digest, 'PX', idempotencyTtl)
    redis.call('SET', e.idempotencyKey .. ':eps', table.concat(createdFor, ','), 'PX', idempotencyTtl)
    bytes = bytes + IDEMPOTENCY_BYTES
  end
  if e.stored then
    StoredBytes.charge(e.stored, now, retention, bytes)
  end
  return created
end

-- The most `e` would write, in stored bytes (write counts what it does write). A new event's
-- deliveries are all new (their ids derive from its id); a replay's (no JSON: the event is stored
-- already) only those whose pair has no delivery yet, found as write() finds them.
local function mostWritten(e)
  local json = ARGV[e.a + 2]
  local deliveries = e.count
  if json == '' then
    deliveries = 0
    for i = 0, e.count - 1 do
      local id = deliveryOf(e.a, i)
      if not recorded(id) and not L.live(id) then
        deliveries = deliveries + 1
      end
    end
  end
  return (json ~= '' and eventBytes(e.a) or 0) + deliveries * DELIVERY_BYTES + (e.digest ~= '' and IDEMPOTENCY_BYTES or 0)
end

-- The limit in force for an event's subscriber: the admin's own for it, else the default the
-- caller sent. Read here, with the write, so that a change made in any API process holds at once.
local limits = {}
local function limitOf(e)
  local s = ARGV[e.a + 5]
  if limits[s] == nil then
    local own = redis.call('HGET', storedPrefix .. s .. ':limits', 'maxStoredBytes')
    limits[s] = tonumber(own or '') or e.limit
  end
  return limits[s]
end

-- Whether the new events of a group (those not `repeats`) would take a subscriber over its limit:
-- {'stored', used, limit, waitMs} for the first such subscriber, else nil. The limit is recorded
-- for admission first (StoredBytes.setLimit), whatever the verdict.
local function overStored(first, last, repeats)
  local need, order = {}, {}
  for x = first, last do
    local e = events[x]
    if e.stored and e.limit then
      local limit = limitOf(e)
      StoredBytes.setLimit(e.stored, now, retention, limit)
      if limit > 0 and not repeats[x] then
        if not need[e.stored] then
          need[e.stored] = { bytes = 0, limit = limit }
          order[#order + 1] = e.stored
        end
        need[e.stored].bytes = need[e.stored].bytes + mostWritten(e)
      end
    end
  end
  for _, key in ipairs(order) do
    local n = need[key]
    local waitMs = StoredBytes.wait(key, now, retention, n.limit, n.bytes)
    if waitMs then
      local used = StoredBytes.usage(key, now, retention)
      return { 'stored', used, n.limit, waitMs }
    end
  end
  return nil
end

local replies = {}
local first = 1
while first <= #events do
  local last = first
  while last < #events and events[last + 1].group == events[first].group do
    last = last + 1
  end
  -- The group's fan-out and idempotency verdicts, before any write.
  local outdated = false
  for x = first, last do
    outdated = outdated or stale(events[x])
  end
  local repeats = {}
  local claimed = {}
  local reused = nil
  for x = first, (outdated and first - 1 or last) do
    local e = events[x]
    if e.digest ~= '' then
      local key = e.idempotencyKey
      local prior = claimed[key] or holder(e)
      if prior and prior.digest and prior.digest ~= e.digest then
        reused = x
        break
      elseif prior then
        -- The endpoints its publish created deliveries for; none kept for a key named earlier in
        -- this group (the caller has its answer) or written by an earlier version.
        repeats[x] = { id = prior.id, endpoints = not claimed[key] and redis.call('GET', key .. ':eps') or nil }
      else
        claimed[key] = { id = e.id, digest = e.digest }
      end
    end
  end
  local over = not outdated and not reused and overStored(first, last, repeats) or nil
  for x = first, last do
    if outdated then
      replies[#replies + 1] = { 'stale' }
    elseif over then
      replies[#replies + 1] = over
    elseif reused then
      replies[#replies + 1] = { x == reused and 'reused' or 'skipped' }
    elseif repeats[x] then
      replies[#replies + 1] = { 'repeat', repeats[x].id, repeats[x].endpoints }
    else
      replies[#replies + 1] = { 'new', write(events[x]) }
    end
  end
  first = last + 1
end
-- Each lane class that got work an admission may take now is signalled once, with the class
-- L.activateEndpoint already read. An endpoint asleep needs no signal: no admission could take it
-- before its sleep ends, and the sleep set's deadline or its waking brings it back.
local signalled = {}
for _, endpointId in ipairs(laneOrder) do
  local c = L.pushMany(endpointId, laneSubscriber[endpointId], lanes[endpointId], false)
  if c and not signalled[c] then
    signalled[c] = true
    L.signal(c)
  end
end
for i = 1, #touched do
  redis.call('PEXPIRE', touched[i], retention)
end
StoredBytes.flush()
return replies
