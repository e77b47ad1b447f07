-- Stores tasks. ARGV: channel ('' for none), occurrence base ('' for none), occurrence member,
-- occurrence time (ms), then 8 values per task: base, id, the JSON array of its name, backend,
-- queue, timeout, priority and max attempts, its priority, args JSON, run_after (µs or ''),
-- unique key (or ''), metadata JSON (or '').
-- Returns {enqueued µs, position, holder, position, holder, …}: the time every stored task was
-- enqueued at, then, for each task whose unique key a READY or RUNNING task holds, its position
-- in the batch (from 1) and that task as read(); or {'-1'} when the occurrence already has its
-- task.
local now = now_us()
local now_ms = math.floor(now / 1000)
if ARGV[2] ~= '' then
  local occ = ARGV[2] .. 'occ'
  if redis.call('ZSCORE', occ, ARGV[3]) then
    return {'-1'}
  end
  redis.call('ZADD', occ, ARGV[4], ARGV[3])
end
local now_text = int(now)
local out = {now_text}
local pending = {}
local woke = false
local position = 0
for i = 5, #ARGV, 8 do
  position = position + 1
  local base, id, unique = ARGV[i], ARGV[i + 1], ARGV[i + 6]
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
    out[#out + 1] = position
    out[#out + 1] = read(base, holder)
  else
    local priority = tonumber(ARGV[i + 3])
    local run_after = ARGV[i + 5]
    local key = base .. 't:' .. id
    redis.call('HSET', key, 'd', ARGV[i + 2], 's', 'READY', 'a', ARGV[i + 4], 'eq', now_text)
    if run_after ~= '' then redis.call('HSET', key, 'ra', run_after) end
    if unique ~= '' then redis.call('HSET', key, 'u', unique) end
    if ARGV[i + 7] ~= '' then redis.call('HSET', key, 'md', ARGV[i + 7]) end
    if ARGV[2] ~= '' then redis.call('HSET', key, 'o', ARGV[3]) end
    zadd_later(pending, index(base, 'READY'), '0', id)
    local due_ms = now_ms
    if run_after ~= '' then
      due_ms = math.floor(tonumber(run_after) / 1000)
    end
    if due_ms > now_ms then
      zadd_later(pending, base .. 'delayed', int(due_ms), id)
    else
      zadd_later(pending, base .. 'ready', ready_score(priority, due_ms), id)
      woke = true
    end
  end
end
zadd_now(pending)
if woke and ARGV[1] ~= '' then
  redis.call('PUBLISH', ARGV[1], '1')
end
return out
