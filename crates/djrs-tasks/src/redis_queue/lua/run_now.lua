-- Makes deferred READY tasks of one queue (run_after in the future) due now. KEYS[1]: the
-- queue's ready set (routing). ARGV: base, channel ('' for none), then ids. Returns 1 (made due)
-- or 0 per id.
local base = ARGV[1]
local now = now_us()
local now_ms = math.floor(now / 1000)
local out = {}
local woke = false
for i = 3, #ARGV do
  local id = ARGV[i]
  local key = base .. 't:' .. id
  local f = redis.call('HMGET', key, 's', 'ra', 'd')
  if f[1] == 'READY' and f[2] and tonumber(f[2]) > now then
    local priority = priority_and_max(f[3])
    redis.call('HSET', key, 'ra', int(now))
    redis.call('ZREM', base .. 'delayed', id)
    redis.call('ZADD', base .. 'ready', ready_score(priority, now_ms), id)
    woke = true
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
if woke and ARGV[2] ~= '' then
  redis.call('PUBLISH', ARGV[2], '1')
end
return out
