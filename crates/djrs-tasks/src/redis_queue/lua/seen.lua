-- Says a worker is alive for a while, and forgets workers whose time ran out. KEYS[1]: the set
-- of workers, scored by the time (µs) until which each counts as alive. ARGV: worker, time to
-- live (ms). The set itself lives as long as its last worker, so a store whose workers were
-- all killed keeps nothing.
local now = now_us()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', int(now))
redis.call('ZADD', KEYS[1], int(now + tonumber(ARGV[2]) * 1000), ARGV[1])
local keep = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < keep then
  redis.call('PEXPIRE', KEYS[1], keep)
end
return 1
