-- An operator's retry of FAILED tasks of one queue: each becomes READY, due now, keeping its
-- errors and the attempts it used; one that used all its attempts gets one more. Its finish
-- time, worker, lease, cancel request and time to live go. A task whose unique key another
-- READY or RUNNING task holds stays FAILED. KEYS[1]: the queue's ready set (routing).
-- ARGV: base, channel ('' for none), then ids. Returns 1 (retried) or 0 per id.
local base = ARGV[1]
local now = now_us()
local now_ms = math.floor(now / 1000)
return each_task(3, function(id, key)
  local f = redis.call('HMGET', key, 's', 'd', 'c', 'u')
  if f[1] ~= 'FAILED' then
    return false
  end
  if f[4] and f[4] ~= '' then
    local ukey = base .. 'u:' .. f[4]
    local holder = redis.call('GET', ukey)
    if holder and holder ~= id then
      local status = redis.call('HGET', base .. 't:' .. holder, 's')
      if status == 'READY' or status == 'RUNNING' then
        return false
      end
    end
    redis.call('SET', ukey, id)
  end
  local priority, max_attempts = priority_and_max(f[2])
  local attempts = tonumber(f[3] or '0')
  if max_attempts < attempts + 1 then
    redis.call('HSET', key, 'd', with_max_attempts(f[2], attempts + 1))
  end
  redis.call('HSET', key, 's', 'READY', 'ra', int(now), 'lw', '')
  redis.call('HDEL', key, 'f', 'x')
  redis.call('PERSIST', key)
  redis.call('ZREM', index(base, 'FAILED'), id)
  redis.call('ZREM', finished(base, 'FAILED'), id)
  redis.call('ZADD', index(base, 'READY'), 0, id)
  redis.call('ZADD', base .. 'ready', ready_score(priority, now_ms), id)
  return true
end, ARGV[2])
