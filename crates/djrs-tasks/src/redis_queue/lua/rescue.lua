-- Runs again (or fails, after its last attempt) each RUNNING task of one queue whose lease
-- expired, at most a bounded number per call, and drops index entries of expired results.
-- ARGV: base, result time to live (ms), the error to record (JSON), channel, bound.
-- Returns 1 when expired results are left to sweep (0 otherwise), then one read() row per task
-- changed.
local base, ttl_ms, error_json = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local now = now_us()
local now_ms = math.floor(now / 1000)
local expired = redis.call('ZRANGEBYSCORE', base .. 'leases', '-inf', '(' .. int(now_ms), 'LIMIT', 0, tonumber(ARGV[5]))
local out = {0}
local woke = false
for _, id in ipairs(expired) do
  local key = base .. 't:' .. id
  local f = redis.call('HMGET', key, 's', 'c', 'd', 'e', 'u')
  redis.call('ZREM', base .. 'leases', id)
  if f[1] == 'RUNNING' then
    local priority, max_attempts = priority_and_max(f[3])
    redis.call('HSET', key, 'e', append_json(f[4], error_json))
    if tonumber(f[2]) >= max_attempts then
      finish(base, id, 'FAILED', now, ttl_ms, f[5], 'RUNNING')
    else
      redis.call('HSET', key, 's', 'READY', 'lw', '')
      requeue(base, id, priority, now_ms, now_ms)
      woke = true
    end
    out[#out + 1] = read(base, id)
  end
end
if sweep(base, now_ms, ttl_ms) then
  out[1] = 1
end
if woke and ARGV[4] ~= '' then
  redis.call('PUBLISH', ARGV[4], '1')
end
return out
