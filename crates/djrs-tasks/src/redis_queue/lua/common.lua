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
-- Index sets of a queue, by status.
local function index(base, status)
  return base .. 's:' .. status
end
-- Ends a task as SUCCESSFUL or FAILED at `now` (µs): indexes it by its finish time, frees its
-- unique key and lease, and gives its result a time to live.
local function finish(base, id, status, now, ttl_ms, unique, from)
  local key = base .. 't:' .. id
  redis.call('HSET', key, 's', status, 'f', int(now), 'lw', '')
  redis.call('ZREM', index(base, from), id)
  redis.call('ZREM', base .. 'leases', id)
  redis.call('ZADD', index(base, status), int(math.floor(now / 1000)), id)
  release(base, id, unique)
  if ttl_ms > 0 then
    redis.call('PEXPIRE', key, ttl_ms)
  end
end
-- Makes a task READY to run again from `due_ms` (ready now, or delayed until then).
local function requeue(base, id, priority, due_ms, now_ms, eq_ms)
  redis.call('ZREM', index(base, 'RUNNING'), id)
  redis.call('ZREM', base .. 'leases', id)
  redis.call('ZADD', index(base, 'READY'), int(eq_ms), id)
  if due_ms > now_ms then
    redis.call('ZADD', base .. 'delayed', int(due_ms), id)
  else
    redis.call('ZADD', base .. 'ready', ready_score(priority, due_ms), id)
  end
end
-- Drops index entries of results whose time to live has passed (their hashes expired).
local function sweep(base, now_ms, ttl_ms)
  if ttl_ms > 0 then
    redis.call('ZREMRANGEBYSCORE', index(base, 'SUCCESSFUL'), '-inf', '(' .. int(now_ms - ttl_ms))
    redis.call('ZREMRANGEBYSCORE', index(base, 'FAILED'), '-inf', '(' .. int(now_ms - ttl_ms))
  end
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
