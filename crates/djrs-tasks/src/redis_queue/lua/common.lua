-- Shared by every djrs-tasks script (prepended to each). Every time comes from the server's
-- clock; every number written is formatted as an integer string; every script returns codes,
-- never error text. A task's keys are ARGV-given bases: "<prefix>:{<queue>}:", so every key of
-- one queue shares a hash tag (Redis Cluster).
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function int(v)
  return string.format('%.0f', v)
end
-- Claim order inside a queue: priority (highest first), then the time the task became due
-- (milliseconds), then the id (time-ordered). Exact in a double until the year 2248.
local function ready_score(priority, due_ms)
  return int((100 - priority) * 8796093022208 + due_ms)
end
-- Appends JSON text `item` to the JSON array text `list`.
local function append_json(list, item)
  if not list or list == '[]' then
    return '[' .. item .. ']'
  end
  return string.sub(list, 1, -2) .. ',' .. item .. ']'
end
-- A task's hash: d (name, backend, queue, timeout, priority and max attempts, as a JSON array,
-- written once), s (status), a (arguments JSON), r (return value JSON), e (errors JSON, absent: []), w (worker
-- ids JSON, absent: []), wp (w before the last claim), c (attempts), eq, ra,
-- st, f, la (enqueued, run after, started, finished, last attempted, µs), u (unique key), lw
-- (the worker holding the lease), o (the cron occurrence that made it), md (metadata JSON).
local FIELDS = {'d', 's', 'a', 'r', 'e', 'w', 'eq', 'ra', 'st', 'f', 'la', 'u', 'md'}
-- The priority and the max attempts written in a task's `d`.
local function priority_and_max(d)
  local once = cjson.decode(d)
  return tonumber(once[5]), tonumber(once[6])
end
-- The task's id then its fields, in FIELDS order (false where unset).
local function read(base, id)
  local row = redis.call('HMGET', base .. 't:' .. id, unpack(FIELDS))
  table.insert(row, 1, id)
  return row
end
-- Frees the task's unique key if the task holds it.
local function release(base, id, unique)
  if unique and unique ~= '' then
    local key = base .. 'u:' .. unique
    if redis.call('GET', key) == id then
      redis.call('DEL', key)
    end
  end
end
-- Index sets of a queue, by status: every member scored 0, so a set is in id order (ids start
-- with a UUIDv7, so id order is time order) and lists page by key with ZRANGE BYLEX.
local function index(base, status)
  return base .. 's:' .. status
end
-- Finish times of a queue's finished tasks, by status (SUCCESSFUL, FAILED), scored in µs: what
-- pruning, sweeping and activity read. A task is in its status's finish set exactly when it is
-- in that status's index set.
local function finished(base, status)
  return base .. 'f:' .. status
end
-- Index entries one sweep drops at most, per status.
local SWEEP_BATCH = 1000
-- The width of one priority's band of ready scores (see ready_score).
local BAND = 8796093022208
-- Sets `d` (the written-once JSON array) to say `max_attempts`: it is its last element.
local function with_max_attempts(d, max_attempts)
  local changed = string.gsub(d, ',%-?%d+%]$', ',' .. int(max_attempts) .. ']', 1)
  return changed
end
-- Ends a task as SUCCESSFUL or FAILED at `now` (µs): indexes it by its finish time, frees its
-- unique key and lease, and gives its result a time to live.
local function finish(base, id, status, now, ttl_ms, unique, from)
  local key = base .. 't:' .. id
  redis.call('HSET', key, 's', status, 'f', int(now), 'lw', '')
  redis.call('ZREM', index(base, from), id)
  redis.call('ZREM', base .. 'leases', id)
  redis.call('ZADD', index(base, status), 0, id)
  redis.call('ZADD', finished(base, status), int(now), id)
  release(base, id, unique)
  if ttl_ms > 0 then
    redis.call('PEXPIRE', key, ttl_ms)
  end
end
-- Makes a task READY to run again from `due_ms` (ready now, or delayed until then).
local function requeue(base, id, priority, due_ms, now_ms)
  redis.call('ZREM', index(base, 'RUNNING'), id)
  redis.call('ZREM', base .. 'leases', id)
  redis.call('ZADD', index(base, 'READY'), 0, id)
  if due_ms > now_ms then
    redis.call('ZADD', base .. 'delayed', int(due_ms), id)
  else
    redis.call('ZADD', base .. 'ready', ready_score(priority, due_ms), id)
  end
end
-- Drops the index entries of results whose time to live has passed (their hashes expired), at
-- most SWEEP_BATCH per status. Returns true when a status had more than that to drop.
local function sweep(base, now_ms, ttl_ms)
  local more = false
  if ttl_ms > 0 then
    local before = '(' .. int((now_ms - ttl_ms) * 1000)
    for _, status in ipairs({'SUCCESSFUL', 'FAILED'}) do
      local ids = redis.call('ZRANGEBYSCORE', finished(base, status), '-inf', before, 'LIMIT', 0, SWEEP_BATCH)
      if #ids > 0 then
        redis.call('ZREM', finished(base, status), unpack(ids))
        redis.call('ZREM', index(base, status), unpack(ids))
      end
      more = more or #ids >= SWEEP_BATCH
    end
  end
  return more
end
-- Sorted-set additions gathered per key ({key = {score, member, …}}) and sent in a few
-- commands: one ZADD per key and 4,000 arguments, which Lua's unpack can take.
local function zadd_later(pending, key, score, member)
  local args = pending[key]
  if not args then
    args = {}
    pending[key] = args
  end
  args[#args + 1] = score
  args[#args + 1] = member
end
local function zadd_now(pending)
  for key, args in pairs(pending) do
    for i = 1, #args, 4000 do
      redis.call('ZADD', key, unpack(args, i, math.min(i + 3999, #args)))
    end
  end
end
-- An operator's change to each task named in ARGV from `first` on: `change(id, key)` returns
-- true when it changed the task. Returns 1 or 0 per id; with a channel (ARGV[2], '' for none),
-- publishes once when a task became due.
local function each_task(first, change, channel)
  local out = {}
  local woke = false
  for i = first, #ARGV do
    local id = ARGV[i]
    if change(id, ARGV[1] .. 't:' .. id) then
      woke = true
      out[#out + 1] = 1
    else
      out[#out + 1] = 0
    end
  end
  if woke and channel and channel ~= '' then
    redis.call('PUBLISH', channel, '1')
  end
  return out
end
