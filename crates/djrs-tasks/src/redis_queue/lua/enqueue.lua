-- Stores tasks. ARGV: channel ('' for none), occurrence base ('' for none), occurrence member,
-- occurrence time (ms), then 11 values per task: base, id, task name, backend, queue,
-- priority, args JSON, max attempts, run_after (µs or ''), timeout (ms or ''), unique key (or '').
-- Returns one row per task: {'1', id, enqueued µs} when stored, {'0', <the task holding its
-- unique key, as read()>} when that key is taken by a READY or RUNNING task; or a single
-- {'-1'} when the occurrence already has its task.
local now = now_us()
local now_ms = math.floor(now / 1000)
if ARGV[2] ~= '' then
  local occ = ARGV[2] .. 'occ'
  if redis.call('ZSCORE', occ, ARGV[3]) then
    return {{'-1'}}
  end
  redis.call('ZADD', occ, ARGV[4], ARGV[3])
end
local out = {}
local woke = false
for i = 5, #ARGV, 11 do
  local base, id, unique = ARGV[i], ARGV[i + 1], ARGV[i + 10]
  local holder = false
  if unique ~= '' then
    local ukey = base .. 'u:' .. unique
    local current = redis.call('GET', ukey)
    if current then
      local status = redis.call('HGET', base .. 't:' .. current, 's')
      if status == 'READY' or status == 'RUNNING' then
        holder = current
      end
    end
    if not holder then
      redis.call('SET', ukey, id)
    end
  end
  if holder then
    local row = read(base, holder)
    table.insert(row, 1, '0')
    out[#out + 1] = row
  else
    local priority = tonumber(ARGV[i + 5])
    local run_after = ARGV[i + 8]
    local key = base .. 't:' .. id
    redis.call('HSET', key, 'n', ARGV[i + 2], 'b', ARGV[i + 3], 'q', ARGV[i + 4], 'p', ARGV[i + 5],
      's', 'READY', 'a', ARGV[i + 6], 'e', '[]', 'w', '[]', 'wp', '[]', 'c', '0', 'm', ARGV[i + 7],
      'eq', int(now))
    if run_after ~= '' then redis.call('HSET', key, 'ra', run_after) end
    if ARGV[i + 9] ~= '' then redis.call('HSET', key, 'to', ARGV[i + 9]) end
    if unique ~= '' then redis.call('HSET', key, 'u', unique) end
    if ARGV[2] ~= '' then redis.call('HSET', key, 'o', ARGV[3]) end
    redis.call('ZADD', index(base, 'READY'), int(now_ms), id)
    local due_ms = now_ms
    if run_after ~= '' then
      due_ms = math.floor(tonumber(run_after) / 1000)
    end
    if due_ms > now_ms then
      redis.call('ZADD', base .. 'delayed', int(due_ms), id)
    else
      redis.call('ZADD', base .. 'ready', ready_score(priority, due_ms), id)
      woke = true
    end
    out[#out + 1] = {'1', id, int(now)}
  end
end
if woke and ARGV[1] ~= '' then
  redis.call('PUBLISH', ARGV[1], '1')
end
return out
