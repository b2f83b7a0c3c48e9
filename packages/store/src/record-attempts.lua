-- Records attempts of several deliveries in one call (DeliveryStore gathers the attempts that end in
-- one event-loop turn): per delivery, appends the attempt to its history, moves its state (writing
-- its record on the first attempt), moves it in the scheduler (out of it once ended, into the due
-- set for a retry, counting the attempt's pace towards the slow lane: lanes.lua, loaded ahead of
-- this script) and updates its endpoint's health and attempts per hour (EndpointHealth.recordMany:
-- endpoint-health.lua and endpoint-hourly-counts.lua, loaded ahead of this script too). Each
-- delivery's part leaves what it would if it were called alone (record-attempts-together.int.test.ts
-- holds the call to that); one call saves the worker a Redis command per attempt, and what the
-- parts share is written once at the end of the call: the ended deliveries' places in the
-- scheduler, one command per key, and each endpoint's health, once per run of usual attempts.
--
-- Redis does not roll a script back, and the caller of a part that fails runs again. So: every
-- argument is checked before the first write (a malformed part fails the call with nothing
-- written); a part that fails while writing (a key of the wrong type) is answered with its error
-- in its place among the replies, the others written and answered as usual; and each delivery's
-- part is idempotent: a part whose attempt number the delivery's
-- record already counts and whose attempt its history holds (written by an earlier run of the
-- same call) writes nothing and answers the endpoint's streak as it stands. Another attempt under
-- a number already counted (jobs from before and after a reopen, or two runs of one job, both
-- sending) is kept under the next number (recordOne).
--
-- KEYS, per delivery: delivery, deliveryAttempts, endpointHealth, endpointOutcomes, endpointHourlyCounts
-- ARGV: schedPrefix, slowAfter, fastAfter, attemptsKept (the newest a delivery's list keeps),
--       hoursKept (the hours an endpoint's attempt counts keep), storedKeyPrefix (a subscriber's
--       stored-bytes key is this, its id and `:stored`; '' or absent: nothing charged), then per delivery: n (how many of the following are
--       this delivery's), then attemptJson, retentionMs, nowMs, attemptOk ('1'|'0'|'' for no
--       health update), final ('delivered'|'failed'|'none'), ticket (the job's; '' for an attempt
--       the scheduler did not hand out, such as a test send), lane (the lane class the job ran
--       in), pace ('slow'|'prompt'|''), nextAttemptAt ('' unless retrying), attempt (its number,
--       1-based), then 6 field/value pairs
--       that make the record (id, eventId, eventType, endpointId, subscriberId, createdAt), then
--       field/value pairs of the state
-- Returns, per delivery, its error (a part that failed), or {consecutiveFailures, failingSince (0 when none), laneMove (1: the
-- endpoint moved to the slow lane, 2: back to the fast one, 0: neither), countedElsewhere (1: the
-- attempt's ticket was no longer its delivery's, which had been ended or is live under a newer
-- one, see below, or this attempt was recorded before: whoever ended it, or the current ticket's
-- job, counts how the delivery ended), retryDropped (1: the attempt asked for a retry that is not
-- made, its delivery having ended: kept as failed)}: the endpoint's failure streak as
-- endpoint-health.lua counts it (failed deliveries, each once per streak).
--
-- A delivery ended while its attempt was in flight (its endpoint disabled: end-deliveries.lua fails
-- it and takes it out of the scheduler, so the job's ticket is no longer its) keeps the attempt in
-- its history and its count, but the attempt moves its state only to `delivered` (the receiver has
-- it; a `failed` record would invite a retry that sends it twice). A retry it would have asked for
-- is not promised: nothing is scheduled to make it. The caller counted the delivery's end already.
-- Reopened as well since (a person's retry: it is live again under a newer ticket), the attempt
-- moves the state only to `delivered`, never the scheduler, and the retry's own job, when it
-- records the attempt number this one took, records the next one instead (see recordOne).
-- What each part writes (its attempt's JSON, the record's fields on its first write) is charged to
-- its subscriber's stored bytes (stored-bytes.lua, loaded ahead of this script), written once per
-- subscriber per call; a delivery's first attempt only beyond what its publish paid for it
-- (StoredBytes.FIRST_ATTEMPT_BYTES).
-- Written for few Redis calls: this runs once per attempt, ~10 calls where each one counts.
L.init(ARGV[1], 0)
local slowAfter = tonumber(ARGV[2])
local fastAfter = tonumber(ARGV[3])
local attemptsKept = tonumber(ARGV[4])
if not attemptsKept or attemptsKept < 1 then
  return redis.error_reply('record-attempts: attemptsKept must be a positive number')
end
local hoursKept = tonumber(ARGV[5])
if not hoursKept or hoursKept < 1 then
  return redis.error_reply('record-attempts: hoursKept must be a positive number')
end
local RECORD = 10 -- offset of the record's field/value pairs in a part
local STATE = 22 -- offset of the state's field/value pairs
local storedPrefix = ARGV[6] or ''
-- What an attempt list's element and a record cost Redis beside their own bytes, as stored bytes.
local ATTEMPT_BYTES, RECORD_BYTES = 50, 200

-- Every part's place, checked before anything is written.
local parts = {}
do
  local k = 1
  local a = 7
  while a <= #ARGV do
    local n = tonumber(ARGV[a])
    local p = { k = k, a = a + 1, last = a + (n or 0) }
    local function bad(why)
      return redis.error_reply('record-attempts: delivery ' .. (#parts + 1) .. ': ' .. why)
    end
    if not n or n < STATE or (n - STATE) % 2 ~= 0 or p.last > #ARGV then
      return bad('wrong argument count')
    end
    local x = p.a
    if ARGV[x] == '' or not tonumber(ARGV[x + 1]) or not tonumber(ARGV[x + 2]) then
      return bad('attempt, retention or time missing')
    end
    if ARGV[x + 3] ~= '1' and ARGV[x + 3] ~= '0' and ARGV[x + 3] ~= '' then
      return bad('attemptOk must be 1, 0 or empty')
    end
    local final = ARGV[x + 4]
    if final ~= 'delivered' and final ~= 'failed' and final ~= 'none' then
      return bad('final must be delivered, failed or none')
    end
    if ARGV[x + 5] ~= '' and not tonumber(ARGV[x + 5]) then
      return bad('ticket is not a number')
    end
    if ARGV[x + 5] ~= '' and final == 'none' and not tonumber(ARGV[x + 8]) then
      return bad('a retry needs nextAttemptAt')
    end
    p.attempt = tonumber(ARGV[x + 9])
    if not p.attempt or p.attempt < 1 then
      return bad('attempt number missing')
    end
    if KEYS[k + 4] == nil then
      return bad('keys missing')
    end
    parts[#parts + 1] = p
    k = k + 5
    a = p.last + 1
  end
end

-- Each delivery's record, read once for the call: its attempt count says which parts are new (a
-- part whose attempt the record already counts was recorded), its existence (every writer of a
-- record writes `attempts`) whether this is its first write; both follow this call's writes.
local records = {}
for _, p in ipairs(parts) do
  local delivery = KEYS[p.k]
  if not records[delivery] then
    local stored = redis.call('HMGET', delivery, 'attempts', 'state')
    records[delivery] = { attempts = tonumber(stored[1] or '0') or 0, exists = stored[1] ~= false, state = stored[2] }
  end
end

-- The parts' scheduler entries, read once for the call (false for none). They follow its moves: an
-- ended delivery's is false from its part on, a retried one's carries its new ticket (L.bump).
local entries = {}
do
  local ids = {}
  for _, p in ipairs(parts) do
    if ARGV[p.a + 5] ~= '' then
      ids[#ids + 1] = ARGV[p.a + RECORD + 1]
    end
  end
  if #ids > 0 then
    local values = redis.call('HMGET', L.key('d'), unpack(ids))
    for i, id in ipairs(ids) do
      entries[id] = values[i] and L.parse(values[i]) or false
    end
  end
end

-- The delivery's scheduler entry when this part's job still holds its current ticket (else nil),
-- and whether the delivery is live under another ticket: reopened while this attempt ran. Nil and
-- false for an attempt the scheduler did not hand out (a test send).
local function current(id, a)
  local ticket = ARGV[a + 5]
  if ticket == '' then
    return nil, false
  end
  local x = entries[id]
  if x and x.ticket == tonumber(ticket) then
    return x, false
  end
  return nil, x ~= false and x ~= nil
end

-- The state's field/value pairs of a part, without `dropped` fields, with `attempts` set to
-- `number` when given.
local function stateFields(a, last, dropped, number)
  local fields = {}
  for f = a + STATE, last, 2 do
    local field = ARGV[f]
    if not dropped[field] then
      fields[#fields + 1] = field
      fields[#fields + 1] = (number and field == 'attempts') and number or ARGV[f + 1]
    end
  end
  return fields
end

-- An attempt's JSON under another number, and as failed when it asked for a retry (and how many
-- it changed: 0 or 1). The first `"attempt":<digits>` and `"outcome":"retry"` are the attempt's
-- own: the worker writes both keys ahead of requestHeaders (processor.ts), and a header's value is
-- a quoted string.
local function numbered(json, number)
  return (string.gsub(json, '"attempt":%d+', '"attempt":' .. number, 1))
end

local function retryAsFailed(json)
  return string.gsub(json, '"outcome":"retry"', '"outcome":"failed"', 1)
end

-- An attempt's JSON with its number left out, and a retry it asked for taken as a failure: an
-- attempt recorded late is kept under another number, and as failed when no retry followed it.
local function unnumbered(json)
  return (retryAsFailed(numbered(json, 0)))
end

-- When an attempt's JSON says it started: it opens with its number and start, as the worker
-- writes it ({"attempt":3,"startedAt":1765432100000,...}), so only its head is read, never what a
-- receiver wrote further on. nil for a head of another shape.
local function startedOf(json)
  return string.match(string.sub(json, 1, 64), '^{"attempt":%d+,"startedAt":(%-?%d+)')
end

-- Whether the attempt `json` is one a delivery's history keeps (at most attemptsKept), whatever
-- number it was kept under. Only a kept attempt that started at the same millisecond (the
-- worker's clock) can be it, so the others are not rewritten and compared: that cost ~6 ms per
-- late attempt against 60 kept ones of ~10 KB, and one subscriber could make a call of 40 such
-- attempts hold Redis ~0.4 s (an audit's probe: a disable, a re-enable and a recover under held
-- requests). Reading the kept attempts remains (~1 ms per late attempt there).
local function inHistory(attempts, json)
  local started = startedOf(json)
  local wanted
  for _, kept in ipairs(redis.call('LRANGE', attempts, 0, -1)) do
    local keptStarted = started and startedOf(kept)
    if not keptStarted or keptStarted == started then
      wanted = wanted or unnumbered(json)
      if unnumbered(kept) == wanted then
        return true
      end
    end
  end
  return false
end

-- Charges what part `p` wrote (`bytes`) to its subscriber's stored bytes; `first`: the delivery's
-- first attempt, its record written with it, which its publish paid FIRST_ATTEMPT_BYTES of.
local function wrote(p, bytes, first)
  if storedPrefix == '' then
    return
  end
  local charged = first and math.max(0, bytes - StoredBytes.FIRST_ATTEMPT_BYTES) or bytes
  StoredBytes.charge(storedPrefix .. ARGV[p.a + RECORD + 9] .. ':stored', tonumber(ARGV[p.a + 2]), tonumber(ARGV[p.a + 1]), charged)
end

local KEEP_ALL = {}
local ATTEMPT_ONLY = { state = true, nextAttemptAt = true, failureReason = true }

-- What the parts recorded so far leave to be written together: the deliveries that ended, per
-- endpoint, subscriber and lane (one L.finishMany each), and each endpoint's attempts, in order
-- (EndpointHealth.recordMany, at the end of the call). Nothing a later part reads: its entry comes
-- from `entries`.
local ended, endedOrder = {}, {}
local healthOf, healthOrder = {}, {}
-- Parts that failed, by index: the error each caller is answered with instead of its reply.
local failed = {}

-- The ends waiting, written now. Each group on its own: one that fails (a key of the wrong type)
-- fails only its own parts, whose callers run again; the others are written.
local function finishEnded()
  for _, group in ipairs(endedOrder) do
    local g = ended[group]
    local done, err = pcall(L.finishMany, g.ids, g.e, g.s, g.c)
    if not done then
      for _, i in ipairs(g.parts) do
        failed[i] = failed[i] or err
      end
    end
  end
  ended, endedOrder = {}, {}
end

-- The scheduler's part of part `i`: only for the job holding the delivery's current ticket;
-- answers the lane move. A retry moves at once (rare); an end waits to be written with the
-- others, unless the pace may move the endpoint between lanes: a move reads the rings that the
-- ends' wakes join, so the ends before it are written first, as one call per part would have.
local function schedule(x, id, a, i)
  if not x then
    return 0
  end
  local lane, pace = ARGV[a + 6], ARGV[a + 7]
  if ARGV[a + 4] == 'none' then
    L.retryAt(id, x, tonumber(ARGV[a + 8]), lane)
  else
    local group = x.endpointId .. '|' .. x.subscriberId .. '|' .. lane
    if not ended[group] then
      ended[group] = { ids = {}, parts = {}, e = x.endpointId, s = x.subscriberId, c = lane }
      endedOrder[#endedOrder + 1] = group
    end
    local g = ended[group]
    g.ids[#g.ids + 1] = id
    g.parts[#g.parts + 1] = i
    entries[id] = false
  end
  if not L.paceSettled(x.endpointId, pace) then
    finishEnded()
  end
  return L.pace(x.endpointId, x.subscriberId, pace, slowAfter, fastAfter)
end

-- Part `i`'s attempt joins its endpoint's health items (`item`: EndpointHealth.recordMany's).
local function healthItem(p, i, item)
  local health = KEYS[p.k + 2]
  local h = healthOf[health]
  if not h then
    h = { outcomes = KEYS[p.k + 3], hourly = KEYS[p.k + 4], items = {}, parts = {} }
    healthOf[health] = h
    healthOrder[#healthOrder + 1] = health
  end
  h.items[#h.items + 1] = item
  h.parts[#h.parts + 1] = i
end

-- Records part `i` (`p`) and answers its reply but for the health that the end of the call fills in.
local function recordOne(p, i)
  local delivery, attempts = KEYS[p.k], KEYS[p.k + 1]
  local a, last = p.a, p.last
  local ok = ARGV[a + 3]
  local record = records[delivery]
  local id = ARGV[a + RECORD + 1]
  local x, reopened = current(id, a)
  -- Handed out by the scheduler and no longer its: the delivery was ended while this attempt ran
  -- (its endpoint disabled, or its current job ended it first), or is live under a newer ticket
  -- (reopened by a person since, or parked by another run of the same job).
  local stale = ARGV[a + 5] ~= '' and not x
  local ended = record.state == 'failed' or record.state == 'delivered'
  local attemptJson, number, late = ARGV[a], nil, false
  if record.attempts >= p.attempt then
    if x then
      -- A job holding its delivery's current ticket has not been recorded (recording one moves the
      -- ticket on or ends the entry): its number was taken by the attempt of a job from before a
      -- reopen, recorded first. This is the attempt after it; ended as a repeat, the current job
      -- would leave its delivery live in the scheduler with no job to attempt it.
      number = record.attempts + 1
    elseif stale and not inHistory(attempts, attemptJson) then
      -- Another job's attempt took this number first: one from before a reopen ending after the
      -- current job's, or a second run of the same job (BullMQ's stalled-job check) that sent
      -- too. Its request went out, so it joins the history as the next attempt, and moves
      -- nothing else (the record already says how the delivery went).
      number = record.attempts + 1
      late = true
    else
      -- Recorded before (an earlier run of this call): nothing to write.
      if ok ~= '' then
        healthItem(p, i, { read = true })
      end
      return { 0, 0, 0, 1, 0 }
    end
    attemptJson = numbered(attemptJson, number)
  end
  -- Its delivery had ended before it was recorded: the retry it asked for is not made, so its
  -- history shows it as failed.
  local retryDropped = false
  if stale and not reopened and ended and ARGV[a + 4] == 'none' then
    local changed
    attemptJson, changed = retryAsFailed(attemptJson)
    retryDropped = changed > 0
  end
  record.attempts = number or p.attempt
  local retention = tonumber(ARGV[a + 1])
  local listed = redis.call('RPUSH', attempts, attemptJson)
  local bytes = #attemptJson + ATTEMPT_BYTES
  local firstWrite = false
  if listed == 1 then
    redis.call('PEXPIRE', attempts, retention)
  elseif listed > attemptsKept then
    redis.call('LTRIM', attempts, -attemptsKept, -1)
  end
  -- A stale attempt on a written record: the job of its current ticket, or whoever ended it,
  -- decides its state and counts its end. A record not written yet takes the first write below.
  local superseded = stale and record.exists and (reopened or ended)
  local final = ARGV[a + 4]
  if late and (final ~= 'delivered' or record.state == 'delivered') then
    -- Recorded late, and it does not deliver what was not delivered: its number only. (One that
    -- does moves the state as any attempt does, below: the receiver has it, whatever the current
    -- job's attempt got, and a job of the current ticket still to come finds it delivered and
    -- ends it unsent.)
    redis.call('HSET', delivery, 'attempts', number, 'updatedAt', ARGV[a + 2])
    final = 'none'
  elseif superseded and final ~= 'delivered' then
    -- The attempt's own fields only (its number, its answer), not the state it asked for: nothing
    -- would make the retry it asks for, and a failure must not end what the current job will
    -- attempt. A delivered one moves the state as any attempt does (below): the receiver has it.
    redis.call('HDEL', delivery, 'lastStatusCode', 'lastErrorKind')
    redis.call('HSET', delivery, unpack(stateFields(a, last, ATTEMPT_ONLY)))
    if reopened then
      -- Not a failed delivery of the endpoint's streak: the delivery is still open.
      final = 'none'
    end
  elseif not record.exists then
    -- The record's identity and its state in one write.
    redis.call('HSET', delivery, unpack(ARGV, a + RECORD, last))
    redis.call('PEXPIRE', delivery, retention)
    for f = a + RECORD, last do
      bytes = bytes + #ARGV[f]
    end
    bytes = bytes + RECORD_BYTES
    firstWrite = true
    record.exists = true
    record.state = final == 'none' and 'retrying' or final
  else
    -- A field the new state does not name (say nextAttemptAt once delivered) must not linger.
    redis.call('HDEL', delivery, 'nextAttemptAt', 'failureReason', 'lastStatusCode', 'lastErrorKind')
    if number then
      redis.call('HSET', delivery, unpack(stateFields(a, last, KEEP_ALL, number)))
    else
      redis.call('HSET', delivery, unpack(ARGV, a + STATE, last))
    end
    record.state = final == 'none' and 'retrying' or final
  end
  wrote(p, bytes, firstWrite)
  local laneMove = schedule(x, id, a, i)
  if ok ~= '' then
    healthItem(p, i, { delivery = delivery, ok = ok, final = final, now = ARGV[a + 2], laneMove = laneMove })
  end
  return { 0, 0, laneMove, (superseded or late) and 1 or 0, retryDropped and 1 or 0 }
end

-- Each part in turn, each as if called alone: one that fails (a key of the wrong type) is
-- answered with its error, in its place among the replies (ioredis hands it to that caller as an
-- error), and the others are written and answered; its caller runs again. A part whose end or
-- endpoint's health could not be written fails too, and its health is not counted (its caller's
-- rerun records it). Only malformed arguments fail the whole call, before anything is written.
local replies = {}
for i, p in ipairs(parts) do
  local done, reply = pcall(recordOne, p, i)
  if done then
    replies[i] = reply
  else
    failed[i] = reply
  end
end
finishEnded()
for _, health in ipairs(healthOrder) do
  local h = healthOf[health]
  -- Without the parts that failed since they joined (their end could not be written).
  local items, owners = {}, {}
  for n, i in ipairs(h.parts) do
    if not failed[i] then
      items[#items + 1] = h.items[n]
      owners[#owners + 1] = i
    end
  end
  local done, answered = pcall(EndpointHealth.recordMany, health, h.outcomes, h.hourly, items, hoursKept)
  for n, i in ipairs(owners) do
    if done then
      local r = answered[n]
      replies[i][1], replies[i][2], replies[i][3] = r[1], r[2], r[3]
    else
      failed[i] = answered
    end
  end
end
-- What every part wrote is charged at once: when that fails, every part does.
local flushed, err = pcall(StoredBytes.flush)
for i = 1, #parts do
  if not flushed then
    failed[i] = failed[i] or err
  end
  if failed[i] then
    -- The error as Redis gave it (pcall hands it over as its message): WRONGTYPE stays WRONGTYPE.
    replies[i] = redis.error_reply(tostring(failed[i]))
  end
end
return replies
