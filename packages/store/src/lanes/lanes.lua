-- lanes.lua: the delivery scheduler's state, shared by every script that moves a delivery. It is
-- loaded ahead of create-event.lua, record-attempts.lua, reopen-deliveries.lua, load-for-attempts.lua
-- and the scripts in this folder (lane-scripts.ts), so each of them moves a delivery atomically with
-- its own writes. docs/delivery-scheduling.md explains the model; in short:
--
-- A live delivery (created, not yet delivered or failed) has an entry, `<ticket>|<eventId>|
-- <endpointId>|<subscriberId>|<createdAt>|<manual>`, and sits in exactly one place:
--   its endpoint's lane (a list: ready to go), its subscriber's due set (waiting for a retry), an admission
--   lease (being turned into a BullMQ job), or a BullMQ job (admitted: waiting for a worker slot or
--   holding one). The ticket grows each time the delivery leaves BullMQ for a lane or the due set,
--   and names its next job (`<deliveryId>-<ticket>`), so a job that BullMQ hands out again after a
--   crash, once its delivery has moved on, finds a newer ticket and stops.
-- So that an endpoint's live deliveries can be found from its own keys (disabling it ends them:
-- open.lua), each place has a per-endpoint view: the lane itself, the places held against its cap
-- (`held:e:<e>`, from admission until the attempt ends), and the index of its retries in the due
-- sets (`due:e:<e>`, delivery ids scored by due time), since a due set is one for a subscriber's
-- endpoints. The due sets (`due:s:<s>`) are found through `dueq`, the subscribers with retries
-- waiting, each scored by its earliest: a due retry is moved to its lane with its subscriber taking
-- turns with the others (L.catchUp).
-- An endpoint with ready deliveries is in its subscriber's ring, the subscriber in its lane class's
-- ring ('fast' or 'slow'); rings are sorted sets scored by a virtual start tag, so admission serves
-- the subscriber with the lowest tag, then its endpoint with the lowest tag, and moves both one tag
-- on: round-robin across subscribers, and across each subscriber's endpoints (start-time fair
-- queueing). A member that joins takes the tag at the head of its ring: a backlog is no head start,
-- and an idle period earns no credit.
-- A member at its in-flight cap, rate limited, or parked by a worker sleeps: it leaves its ring for
-- the sleep set (scored by when it wakes at the latest) and comes back when it may go again, so
-- nothing cycles through the queue while it waits.
--
-- Keys are built here from the scheduler prefix (`<prefix>:sched`, which carries the deployment's
-- hash tag, as BullMQ's keys do), because which keys a move touches depends on what it reads.

local L = {}

function L.init(prefix, now)
  L.p = prefix
  L.now = tonumber(now)
end

-- Written out for up to four parts: a table per key built for table.concat was garbage for Lua's
-- collector on every call of every script, which runs dozens of these per delivery.
function L.key(a, b, c, d)
  if d ~= nil then
    return L.p .. ':' .. a .. ':' .. b .. ':' .. c .. ':' .. d
  elseif c ~= nil then
    return L.p .. ':' .. a .. ':' .. b .. ':' .. c
  elseif b ~= nil then
    return L.p .. ':' .. a .. ':' .. b
  end
  return L.p .. ':' .. a
end

-- Entries -------------------------------------------------------------------------------------

function L.parse(value)
  local t, ev, e, s, at, m = string.match(value, '^(%d+)|([^|]*)|([^|]*)|([^|]*)|(%d+)|([01])$')
  if not t then
    return nil
  end
  return { ticket = tonumber(t), eventId = ev, endpointId = e, subscriberId = s, createdAt = at, manual = m }
end

local function encode(x)
  return x.ticket .. '|' .. x.eventId .. '|' .. x.endpointId .. '|' .. x.subscriberId .. '|' .. x.createdAt .. '|' .. x.manual
end

function L.entry(id)
  local value = redis.call('HGET', L.key('d'), id)
  if value then
    return L.parse(value)
  end
  return nil
end

-- `<deliveryId>-<ticket>`: a lane element, a due member, a lease and a BullMQ job id at once.
function L.member(id, ticket)
  return id .. '-' .. ticket
end

function L.split(member)
  local id, t = string.match(member, '^(.+)-(%d+)$')
  return id, tonumber(t)
end

-- The entry of `member` if its ticket is still the delivery's, else nil (the delivery moved on).
function L.current(member)
  local id, t = L.split(member)
  if not id then
    return nil, nil
  end
  local x = L.entry(id)
  if x and x.ticket == t then
    return x, id
  end
  return nil, id
end

-- A new ticket: jobs and members named after the old one are stale from now on.
function L.bump(id, x)
  x.ticket = x.ticket + 1
  redis.call('HSET', L.key('d'), id, encode(x))
  return L.member(id, x.ticket)
end

-- Rings and sleep -------------------------------------------------------------------------------

function L.class(e)
  return redis.call('HGET', L.key('ep', e), 'lane') or 'fast'
end

local function asleep(member)
  return redis.call('ZSCORE', L.key('sleep'), member) ~= false
end

function L.endpointMember(e, s)
  return 'e|' .. s .. '|' .. e
end

function L.subscriberMember(s, c)
  return 's|' .. c .. '|' .. s
end

-- The tag a member joining `ring` takes: the head's, or the class's virtual time when it is empty.
local function joinTag(ring, vt)
  local head = redis.call('ZRANGE', ring, 0, 0, 'WITHSCORES')
  if head[2] then
    return tonumber(head[2])
  end
  if vt then
    return tonumber(redis.call('GET', vt) or '0')
  end
  return 0
end

function L.activateSubscriber(s, c)
  if asleep(L.subscriberMember(s, c)) or redis.call('EXISTS', L.key('ring', c, s)) == 0 then
    return
  end
  local ring = L.key('ring', c)
  if redis.call('ZSCORE', ring, s) == false then
    redis.call('ZADD', ring, joinTag(ring, L.key('vt', c)), s)
  end
end

-- Puts an endpoint with ready deliveries (and its subscriber) into the rings, unless it sleeps.
-- Returns its lane class when it is in a ring (work an admission may take now), else nil.
function L.activateEndpoint(e, s)
  if asleep(L.endpointMember(e, s)) or redis.call('LLEN', L.key('lane', e)) == 0 then
    return nil
  end
  local c = L.class(e)
  local ring = L.key('ring', c, s)
  if redis.call('ZSCORE', ring, e) == false then
    redis.call('ZADD', ring, joinTag(ring), e)
  end
  L.activateSubscriber(s, c)
  return c
end

-- A rate limit's spacing in ms: 1000/perSecond and 2% more. At exactly 1000/perSecond the first
-- and the (perSecond+1)th delivery are exactly one second apart, so a receiver counting arrivals in
-- a one-second window would see perSecond+1 whenever the network or an event loop delayed the
-- first by a millisecond; 2% more tolerates ~20 ms of such jitter at 20/s.
function L.spacing(rate)
  return 1020 / rate
end

-- Tells the workers that deliveries of lane class `c` joined a lane. Each class has its own list
-- (trimmed to one element: a signal is only "look now"), so a publish to a fast endpoint does not
-- also run the slow lane's admission, which would find nothing. The fast class keeps the list
-- name of the versions before classes had their own: a worker of such a version still hears it.
function L.signal(c)
  local key = c == 'slow' and L.key('wake', 'slow') or L.key('wake')
  redis.call('LPUSH', key, '1')
  redis.call('LTRIM', key, 0, 0)
end

function L.leaveRing(e, s, c)
  local ring = L.key('ring', c, s)
  redis.call('ZREM', ring, e)
  if redis.call('ZCARD', ring) == 0 then
    redis.call('ZREM', L.key('ring', c), s)
  end
end

-- Sleepers whose cap this call has already looked at (L.release): until one of them is put to
-- sleep again in the same call, a later release of a delivery of theirs need not look again. One
-- record-attempts call often ends several deliveries of one endpoint.
local capChecked = {}

-- `why`: 'cap' (at its in-flight cap: woken when one of its deliveries ends), 'bytes:<n>' (a
-- subscriber at its payload bytes: woken when the bytes it holds fall to n or below, L.release),
-- 'rate' (woken when its next token is due), 'address' (a worker's cap on the receiver's address:
-- woken by that worker) or 'tls' (its subscriber failed too many TLS handshakes in a worker: woken
-- when it may try again). `untilMs` is the latest it sleeps in any case.
function L.sleepEndpoint(e, s, c, untilMs, why)
  local member = L.endpointMember(e, s)
  capChecked[member] = nil
  redis.call('ZADD', L.key('sleep'), untilMs, member)
  redis.call('HSET', L.key('sleep-why'), member, why)
  L.leaveRing(e, s, c)
end

function L.sleepSubscriber(s, c, untilMs, why)
  local member = L.subscriberMember(s, c)
  capChecked[member] = nil
  redis.call('ZADD', L.key('sleep'), untilMs, member)
  redis.call('HSET', L.key('sleep-why'), member, why)
  redis.call('ZREM', L.key('ring', c), s)
end

function L.wake(member)
  if redis.call('ZREM', L.key('sleep'), member) == 0 then
    return
  end
  redis.call('HDEL', L.key('sleep-why'), member)
  local kind, a, b = string.match(member, '^(%a)|([^|]+)|(.+)$')
  if kind == 'e' then
    L.activateEndpoint(b, a)
  elseif kind == 's' then
    L.activateSubscriber(b, a)
  end
end


-- Moves an endpoint between the fast and the slow lane; its ready deliveries go with it.
function L.moveClass(e, s, from, to)
  L.leaveRing(e, s, from)
  local meta = L.key('ep', e)
  redis.call('HDEL', meta, 'run')
  if to == 'slow' then
    redis.call('HSET', meta, 'lane', 'slow')
    redis.call('SADD', L.key('slow'), e)
  else
    redis.call('HDEL', meta, 'lane')
    redis.call('SREM', L.key('slow'), e)
  end
  L.activateEndpoint(e, s)
end

-- An endpoint's scheduling settings (its subscriber, its rate limit), written with the endpoint:
-- a changed limit applies to the deliveries already waiting at once. Its pacing state starts over
-- (the next delivery may go now), and an endpoint asleep for its old limit wakes. `rate` is ''
-- for no limit. Returns whether the limit changed.
function L.configureEndpoint(e, s, rate)
  local meta = L.key('ep', e)
  -- A PATCH that raced the endpoint's DELETE: its settings keep the expiry the delete gave them.
  if redis.call('HEXISTS', meta, 'deleted') == 1 then
    return false
  end
  redis.call('HSET', meta, 'sid', s)
  redis.call('PERSIST', meta)
  local old = redis.call('HGET', meta, 'rate') or ''
  if old == rate then
    return false
  end
  if rate == '' then
    redis.call('HDEL', meta, 'rate')
  else
    redis.call('HSET', meta, 'rate', rate)
  end
  redis.call('HDEL', meta, 'tat', 'sent')
  local member = L.endpointMember(e, s)
  if redis.call('HGET', L.key('sleep-why'), member) == 'rate' then
    L.wake(member)
  end
  return true
end

-- Moving deliveries ----------------------------------------------------------------------------

-- Puts ready members (job ids) of one endpoint into its lane, at the tail (or the head), and the
-- endpoint into the rings: one call however many there are. Returns L.activateEndpoint's answer.
function L.pushMany(e, s, members, front)
  if #members == 0 then
    return nil
  end
  local lane = L.key('lane', e)
  -- In pieces: unpack() of thousands of values would overflow Lua's stack.
  for i = 1, #members, 1000 do
    redis.call(front and 'LPUSH' or 'RPUSH', lane, unpack(members, i, math.min(i + 999, #members)))
  end
  redis.call('HINCRBY', L.key('stats'), 'ready', #members)
  return L.activateEndpoint(e, s)
end

function L.pushReady(member, x, front)
  redis.call(front and 'LPUSH' or 'RPUSH', L.key('lane', x.endpointId), member)
  redis.call('HINCRBY', L.key('stats'), 'ready', 1)
  L.activateEndpoint(x.endpointId, x.subscriberId)
end

-- The index of an endpoint's deliveries waiting in the due set (ids scored by due time).
function L.dueOf(e)
  return L.key('due', 'e', e)
end

-- The tickets of a delivery's later lives (each time it is reopened after it left the scheduler)
-- start at a multiple of LIFE no earlier life of it used (its first life starts at 1). A ticket
-- names the delivery's BullMQ job, and a job of an earlier life may still exist (its attempt in
-- flight when the delivery was ended by a disable, or a failed job BullMQ keeps for a day): BullMQ
-- does not add a job whose id it holds, and an attempt of the old job would pass for the new
-- ticket's. One counter for the deployment, cycling through 9,999,999 lives: tickets stay under
-- 10^13, which Lua writes out in full, and one life would need a million retries or parks to
-- reach the next one's.
local LIFE = 1000000
local function firstTicketOfLife()
  return (redis.call('INCR', L.key('lives')) % 9999999 + 1) * LIFE + 1
end

-- A new or reopened delivery: a fresh entry, ready at the tail of its lane.
function L.enqueue(id, eventId, e, s, createdAt, manual)
  local old = L.entry(id)
  if old then
    -- Reopened while live (its member in the due set, if any, is stale from now on).
    redis.call('ZREM', L.dueOf(old.endpointId), id)
  end
  local ticket = old and old.ticket + 1 or firstTicketOfLife()
  local x = { ticket = ticket, eventId = eventId, endpointId = e, subscriberId = s, createdAt = createdAt, manual = manual and '1' or '0' }
  redis.call('HSET', L.key('d'), id, encode(x))
  L.pushReady(L.member(id, x.ticket), x, false)
  return x
end

-- Whether a delivery is live in the scheduler (an entry exists).
function L.live(id)
  return redis.call('HEXISTS', L.key('d'), id) == 1
end

-- A new delivery's entry (ticket 1) unless it is live already; returns its member (job id) or nil.
function L.create(id, eventId, e, s, createdAt)
  local x = { ticket = 1, eventId = eventId, endpointId = e, subscriberId = s, createdAt = createdAt, manual = '0' }
  if redis.call('HSETNX', L.key('d'), id, encode(x)) == 0 then
    return nil
  end
  return L.member(id, 1)
end

-- The payload bytes a subscriber's admitted deliveries hold in lane class `c` (hash: delivery id ->
-- bytes, written by admit.lua with the places in `held:s`). The hash is the whole book: a delivery
-- gives its bytes back by the HDEL of its own field, so however many paths end it (an attempt's
-- record, a park, a lease running out, a forget), they are given back once and never below 0.
function L.heldBytesKey(c, s)
  return L.key('held', 'b', c, s)
end

-- Deliveries `ids` (of endpoint `e` and subscriber `s`) no longer hold places against their
-- endpoint's and subscriber's caps, nor their payload bytes; either may go again if it slept at its
-- cap. `c` is the lane they were admitted in (nil: not known, both). One call for many: the
-- deliveries of one endpoint that a record-attempts call ends leave with one command per key.
function L.releaseMany(ids, e, s, c)
  redis.call('ZREM', L.key('held', 'e', e), unpack(ids))
  local members = { L.endpointMember(e, s) }
  local bytesKeys = {}
  for _, lane in ipairs((c and c ~= '') and { c } or { 'fast', 'slow' }) do
    local member = L.subscriberMember(s, lane)
    redis.call('ZREM', L.key('held', 's', lane, s), unpack(ids))
    bytesKeys[member] = L.heldBytesKey(lane, s)
    redis.call('HDEL', bytesKeys[member], unpack(ids))
    members[#members + 1] = member
  end
  local unchecked = {}
  for _, member in ipairs(members) do
    if not capChecked[member] then
      unchecked[#unchecked + 1] = member
      capChecked[member] = true
    end
  end
  if #unchecked == 0 then
    return
  end
  local why = redis.call('HMGET', L.key('sleep-why'), unpack(unchecked))
  for i, member in ipairs(unchecked) do
    local w = why[i]
    if w == 'cap' then
      L.wake(member)
    elseif w and bytesKeys[member] then
      local under = tonumber(string.match(w, '^bytes:(%d+)$'))
      if under then
        -- Asleep for its bytes: it wakes once they have fallen to `under` (half the bound, or what
        -- lets its next delivery go), so that one admission takes the deliveries of the freed half
        -- together instead of one per delivery ending (each with its admission and its job adds).
        -- Until then each release looks again: the sum is over the few deliveries the bound holds.
        local sum = 0
        for _, v in ipairs(redis.call('HVALS', bytesKeys[member])) do
          sum = sum + (tonumber(v) or 0)
        end
        if sum <= under then
          L.wake(member)
        else
          capChecked[member] = nil
        end
      end
    end
  end
end

-- One delivery's L.releaseMany.
function L.release(id, e, s, c)
  L.releaseMany({ id }, e, s, c)
end

-- The deliveries have ended (delivered, failed, expired): they leave the scheduler.
function L.finishMany(ids, e, s, c)
  L.releaseMany(ids, e, s, c)
  redis.call('HDEL', L.key('d'), unpack(ids))
end

function L.finish(id, x, c)
  L.finishMany({ id }, x.endpointId, x.subscriberId, c)
end

-- The delivery leaves the scheduler without an attempt, wherever it waits (forget.lua,
-- end-deliveries.lua). A retry taken out before its time (its endpoint disabled) keeps a stale
-- member in the due set until it comes due, but the endpoint's index must not keep it.
function L.forget(id, x)
  L.finish(id, x)
  redis.call('ZREM', L.dueOf(x.endpointId), id)
end

-- Another attempt is due at `atMs`: the delivery waits in its subscriber's due set under a new
-- ticket, and the subscriber in `dueq` at its earliest retry.
function L.retryAt(id, x, atMs, c)
  L.release(id, x.endpointId, x.subscriberId, c)
  redis.call('ZADD', L.key('due', 's', x.subscriberId), atMs, L.bump(id, x))
  redis.call('ZADD', L.key('dueq'), 'LT', atMs, x.subscriberId)
  redis.call('HINCRBY', L.key('stats'), 'due', 1)
  redis.call('ZADD', L.dueOf(x.endpointId), atMs, id)
end

-- Due members (in time order) leave their set: each to its lane if its ticket is still its
-- delivery's, else dropped. An endpoint's go to its lane in one push, in their order, and leave its
-- index of retries in one ZREM: one by one, a retry cost ~14 commands, and one subscriber's 1,000
-- retries due at one instant (503s with one Retry-After date) made each admission 14-37 ms of
-- Redis (an audit's probe). Endpoints join the rings in the order of their first member, as one
-- by one. `counted`: the set's members are in stats.due (the subscribers' sets), taken off.
local function comeDue(set, members, counted)
  if #members == 0 then
    return
  end
  local removed = 0
  for i = 1, #members, 1000 do
    removed = removed + redis.call('ZREM', set, unpack(members, i, math.min(i + 999, #members)))
  end
  if counted and removed > 0 then
    redis.call('HINCRBY', L.key('stats'), 'due', -removed)
  end
  local byEndpoint, endpoints = {}, {}
  for _, member in ipairs(members) do
    local x, id = L.current(member)
    if x then
      local group = byEndpoint[x.endpointId]
      if not group then
        group = { subscriber = x.subscriberId, members = {}, ids = {} }
        byEndpoint[x.endpointId] = group
        endpoints[#endpoints + 1] = x.endpointId
      end
      group.members[#group.members + 1] = member
      group.ids[#group.ids + 1] = id
    end
  end
  for _, e in ipairs(endpoints) do
    local group = byEndpoint[e]
    for i = 1, #group.ids, 1000 do
      redis.call('ZREM', L.dueOf(e), unpack(group.ids, i, math.min(i + 999, #group.ids)))
    end
    L.pushMany(e, group.subscriber, group.members, false)
  end
end

-- Retries that are due, at most CATCH_UP_DUE a call, the subscribers with retries due taking
-- turns. One due set for everyone, read in time order, made another subscriber's retry wait behind
-- all of one subscriber's that came due before it: a million of them (receivers answering 503 with
-- one Retry-After date) took ~1,000 calls of ~25 ms of Redis each.
-- Each of the first CATCH_UP_SUBSCRIBERS in `dueq` (by earliest retry) gets an equal part, at
-- least 10, and what they leave of CATCH_UP_DUE goes in a second pass to those that took all of
-- theirs. One served that still has retries due goes behind the others in `dueq` (scored just after
-- now, not at its earliest retry), so past the first hundred the subscribers take turns too. `now`
-- is the calling process's clock: one running ahead of the others puts them that far behind.
local CATCH_UP_DUE = 1000
local CATCH_UP_SUBSCRIBERS = 100
local function catchUpDue(now)
  local budget = CATCH_UP_DUE
  -- Written before per-subscriber due sets: drained as it comes due, within the same budget.
  local old = redis.call('ZRANGEBYSCORE', L.key('due'), '-inf', now, 'LIMIT', 0, budget)
  comeDue(L.key('due'), old, false)
  budget = budget - #old
  local dueq = L.key('dueq')
  local subscribers = budget > 0 and redis.call('ZRANGEBYSCORE', dueq, '-inf', now, 'LIMIT', 0, CATCH_UP_SUBSCRIBERS) or {}
  local full, served, order = {}, {}, 0
  local share = math.max(10, math.floor(budget / math.max(#subscribers, 1)))
  for pass = 1, 2 do
    local turn = pass == 1 and subscribers or full
    full = {}
    for _, s in ipairs(turn) do
      local take = math.min(share, budget)
      if take <= 0 then
        break
      end
      local set = L.key('due', 's', s)
      local members = redis.call('ZRANGEBYSCORE', set, '-inf', now, 'LIMIT', 0, take)
      comeDue(set, members, true)
      if not served[s] then
        order = order + 1
        served[s] = order
      end
      budget = budget - #members
      if #members == take then
        full[#full + 1] = s
      end
    end
    if budget <= 0 or #full == 0 then
      break
    end
    share = math.max(1, math.floor(budget / #full))
  end
  -- Only those served move: one the budget did not reach keeps its place for the next call. Those
  -- served and still due go after now in the order they were served (a thousandth of a ms apart,
  -- written out, as Lua's numbers print 14 digits): with one score for all, the next call took them
  -- by name, and past a hundred the later names got half the turns.
  for _, s in ipairs(subscribers) do
    if served[s] then
      local head = redis.call('ZRANGE', L.key('due', 's', s), 0, 0, 'WITHSCORES')
      if not head[2] then
        redis.call('ZREM', dueq, s)
      elseif tonumber(head[2]) > now then
        redis.call('ZADD', dueq, head[2], s)
      else
        redis.call('ZADD', dueq, string.format('%.3f', now + 1 + served[s] / 1000), s)
      end
    end
  end
end

-- Counts an attempt's pace towards moving its endpoint between lanes. `pace` is 'slow' (timed
-- out or took too long), 'prompt', or '' (not counted). `run` counts the attempts in a row that
-- disagree with the endpoint's lane (slow ones in the fast lane, prompt ones in the slow lane);
-- one that agrees resets it. Returns 1 when the endpoint moved to the slow lane, 2 when it moved
-- back, else 0. The usual case (a prompt attempt in the fast lane) costs one read, once per call
-- for an endpoint whose attempts keep agreeing with its lane.
local paceAgrees = {}

-- Whether L.pace would answer 0 at once for this endpoint and pace, reading and moving nothing.
function L.paceSettled(e, pace)
  return pace == '' or paceAgrees[e] == pace
end

function L.pace(e, s, pace, slowAfter, fastAfter)
  if L.paceSettled(e, pace) then
    return 0
  end
  paceAgrees[e] = nil
  local meta = L.key('ep', e)
  local state = redis.call('HMGET', meta, 'lane', 'run', 'deleted')
  if state[3] then
    -- Deleted (EndpointStore.delete): an attempt that ends after it moves nothing.
    return 0
  end
  local c = state[1] or 'fast'
  if (pace == 'slow') == (c == 'slow') then
    if state[2] then
      redis.call('HDEL', meta, 'run')
    end
    -- The lane and the run change only here and in L.moveClass (reached from here): until then,
    -- this endpoint's attempts at this pace agree without a read.
    paceAgrees[e] = pace
    return 0
  end
  local run = redis.call('HINCRBY', meta, 'run', 1)
  if pace == 'slow' and run >= slowAfter then
    L.moveClass(e, s, 'fast', 'slow')
    return 1
  elseif pace == 'prompt' and run >= fastAfter then
    L.moveClass(e, s, 'slow', 'fast')
    return 2
  end
  return 0
end

-- Due work: sleepers whose time has come wake, retries that are due join their lanes, and leases
-- whose job never got added (the admitting process died) go back to the head of their lanes.
-- Each bounded per call; the rest waits for the next call.
function L.catchUp()
  local now = L.now
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', L.key('sleep'), '-inf', now, 'LIMIT', 0, 500)) do
    L.wake(member)
  end
  catchUpDue(now)
  for _, c in ipairs({ 'fast', 'slow' }) do
    local leases = L.key('leases', c)
    for _, member in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 500)) do
      redis.call('ZREM', leases, member)
      local x, id = L.current(member)
      if x then
        L.release(id, x.endpointId, x.subscriberId)
        L.pushReady(L.bump(id, x), x, true)
      end
    end
  end
end

-- When something next falls due (a sleeper, a retry, a lease), or false.
function L.nextDue()
  local next = false
  for _, k in ipairs({ L.key('sleep'), L.key('dueq'), L.key('due'), L.key('leases', 'fast'), L.key('leases', 'slow') }) do
    local head = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
    if head[2] then
      local at = tonumber(head[2])
      if not next or at < next then
        next = at
      end
    end
  end
  -- Rounded up: Redis hands a Lua number back as an integer, and a catch-up's score (just after
  -- now, in thousandths) rounded down would wake the admission pump before anything is due.
  return next and math.ceil(next)
end
