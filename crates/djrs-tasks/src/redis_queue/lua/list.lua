-- Lists one status of one queue, newest (highest id) first. KEYS[1]: the queue's ready set
-- (routing). ARGV: base, status, the upper bound and the lower bound of the ids (ZRANGE BYLEX
-- bounds: '+', '(<id>', '-', '[<prefix>'), the task name's prefix of `d` ('' for any name),
-- enqueued since and until (µs, '' for no bound; since inclusive, until exclusive), how many
-- to find, how many ids to examine at most.
-- Returns {cursor, rows…}: one read() row per task found; the cursor is the last id examined
-- when the examining bound stopped the search ('' when the range is done or enough were found),
-- from which the next call goes on (upper bound '(' .. cursor).
local base, status = ARGV[1], ARGV[2]
local name = ARGV[5]
local since, till = tonumber(ARGV[6]), tonumber(ARGV[7])
local want, bound = tonumber(ARGV[8]), tonumber(ARGV[9])
local ids = redis.call('ZRANGE', index(base, status), ARGV[3], ARGV[4], 'BYLEX', 'REV', 'LIMIT', 0, bound)
local out = {''}
local found = 0
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', base .. 't:' .. id, 'd', 'eq')
  -- A task whose result expired (its hash is gone) is passed over.
  local keep = f[1] and f[2]
  if keep and name ~= '' then
    keep = string.sub(f[1], 1, #name) == name
  end
  if keep and (since or till) then
    local eq = tonumber(f[2])
    keep = (not since or eq >= since) and (not till or eq < till)
  end
  if keep then
    out[#out + 1] = read(base, id)
    found = found + 1
    if found >= want then
      return out
    end
  end
end
if #ids >= bound then
  out[1] = ids[#ids]
end
return out
