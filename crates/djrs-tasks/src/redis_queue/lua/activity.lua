-- What one queue did since a time. KEYS[1]: the queue's ready set (routing). ARGV: base, since
-- (µs), result time to live (ms, 0: kept). Returns {succeeded, failed, oldest due (µs, or '')}:
-- the tasks that finished since then and still have their result (a result past its time to
-- live is gone even if its index entry is not swept yet), and since when the longest-waiting
-- due READY task waits (its run_after, or its enqueue time when it has none).
local base, ttl_ms = ARGV[1], tonumber(ARGV[3])
local now = now_us()
local now_ms = math.floor(now / 1000)
local since = tonumber(ARGV[2])
if ttl_ms > 0 then
  since = math.max(since, (now_ms - ttl_ms) * 1000)
end
local succeeded = redis.call('ZCOUNT', finished(base, 'SUCCESSFUL'), int(since), '+inf')
local failed = redis.call('ZCOUNT', finished(base, 'FAILED'), int(since), '+inf')
local oldest = false
local function consider(id)
  local f = redis.call('HMGET', base .. 't:' .. id, 'ra', 'eq')
  local waits = tonumber(f[1] or f[2] or '')
  if waits and (not oldest or waits < oldest) then
    oldest = waits
  end
end
-- Deferred tasks that are due but not promoted by a claim yet: the earliest due first.
local due = redis.call('ZRANGEBYSCORE', base .. 'delayed', '-inf', int(now_ms), 'LIMIT', 0, 1)
if due[1] then
  consider(due[1])
end
-- Ready tasks: in each priority's band the first is the one due longest; at most 201 bands,
-- each found with one O(log n) lookup.
local from = '-inf'
while true do
  local first = redis.call('ZRANGEBYSCORE', base .. 'ready', from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if not first[1] then
    break
  end
  consider(first[1])
  from = int((math.floor(tonumber(first[2]) / BAND) + 1) * BAND)
end
return {succeeded, failed, oldest and int(oldest) or ''}
