-- Makes deferred READY tasks of one queue (run_after in the future) due now. KEYS[1]: the
-- queue's ready set (routing). ARGV: base, channel ('' for none), then ids. Returns 1 (made due)
-- or 0 per id.
local base = ARGV[1]
local now = now_us()
local now_ms = math.floor(now / 1000)
return each_task(3, function(id, key)
  local f = redis.call('HMGET', key, 's', 'ra', 'd')
  if f[1] ~= 'READY' or not f[2] or tonumber(f[2]) <= now then
    return false
  end
  local priority = priority_and_max(f[3])
  redis.call('HSET', key, 'ra', int(now))
  redis.call('ZREM', base .. 'delayed', id)
  redis.call('ZADD', base .. 'ready', ready_score(priority, now_ms), id)
  return true
end, ARGV[2])
