-- Extends a worker's leases in one queue. ARGV: base, lease (ms), worker, then pairs of id and
-- attempt. Returns, for each task whose attempt the worker still holds, its id and '1' when an
-- operator asked to cancel that attempt ('0' otherwise).
local base, lease_ms, worker = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local now_ms = math.floor(now_us() / 1000)
local held = {}
for i = 4, #ARGV, 2 do
  local id = ARGV[i]
  local f = redis.call('HMGET', base .. 't:' .. id, 's', 'lw', 'c', 'x')
  if f[1] == 'RUNNING' and f[2] == worker and f[3] == ARGV[i + 1] then
    redis.call('ZADD', base .. 'leases', int(now_ms + lease_ms), id)
    held[#held + 1] = id
    -- A request names the attempt it was made for, so a later attempt does not inherit it.
    held[#held + 1] = (f[4] == f[3]) and '1' or '0'
  end
end
return held
