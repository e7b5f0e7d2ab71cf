-- wrk script of bench/tips_bench.py (through bench/tips_load.py):
--
--   wrk -t1 -c32 -d<S + grace>s -s bench/tips_wrk.lua http://127.0.0.1:PORT -- \
--       <tips|bare> <S seconds> <first tip number> <case_id> <seen_at ISO>
--
-- "tips": every request is a distinct, valid public tip from its own client address
-- (X-Forwarded-For, trusted from the loopback proxy), so neither duplicate detection nor the
-- per-client limit refuses it; the overall limit still applies. "bare": the same POST of "{}" to
-- the bench server's bare endpoint, every time.
--
-- Requests are sent for S seconds only. After that each connection sends one GET /bench/hold,
-- which the bench server answers only once the client has gone: wrk never records it, and no
-- counted request is in flight when wrk stops at S + grace. So the 2xx counted here are exactly
-- the tips answered, comparable one for one with the rows stored, and wrk's latency histogram
-- holds only the measured requests. Prints one line "TIPS_JSON {...}": counts by status, 429s
-- without a numeric Retry-After, latency percentiles (microseconds), socket errors.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bolo_timespec;
int clock_gettime(int clock_id, bolo_timespec *tp);
]]
local now_ts = ffi.new("bolo_timespec")

local function monotonic()
  ffi.C.clock_gettime(1, now_ts) -- CLOCK_MONOTONIC
  return tonumber(now_ts.tv_sec) + tonumber(now_ts.tv_nsec) * 1e-9
end

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

local places = {"Kilju", "Gilju", "Kilchu", "Hamhung", "Hamheung", "Songch'on", "Seongcheon",
                "Tanchon", "Kimchaek", "\234\184\184\236\163\188", "Hyesan", "Chongjin",
                "40.9642, 129.3278"}
local mode, case_id, seen_at, deadline, bare
local n = 0
statuses = {}
retry_after_bad = 0

function init(args)
  mode = args[1]
  deadline = monotonic() + tonumber(args[2])
  -- Tip numbers of thread i start at first + i * 10^7: distinct across threads and phases.
  n = tonumber(args[3]) + thread_index * 10000000
  case_id = args[4]
  seen_at = args[5]
  bare = wrk.format("POST", "/bench/bare", {["Content-Type"] = "application/json"}, "{}")
end

local hold = wrk.format("GET", "/bench/hold")

function request()
  if monotonic() >= deadline then
    return hold
  end
  if mode == "bare" then
    return bare
  end
  n = n + 1
  local body = string.format(
    '{"case_id":"%s","seen_at":"%s","what":"couple with a small boy in a grey truck, ' ..
    'heading north (tip %d)","place":"%s"}', case_id, seen_at, n, places[n % #places + 1])
  local client = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256,
                               math.floor(n / 256) % 256, n % 256)
  return wrk.format("POST", "/api/v1/public/tips", {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = client,
  }, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 429 then
    local wait = headers["Retry-After"] or headers["retry-after"]
    if wait == nil or not string.match(wait, "^%d+$") then
      retry_after_bad = retry_after_bad + 1
    end
  end
end

function done(summary, latency, requests)
  local counts = {}
  local bad = 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
    bad = bad + thread:get("retry_after_bad")
  end
  local parts = {}
  for status, count in pairs(counts) do
    table.insert(parts, string.format('"%d":%d', status, count))
  end
  io.write(string.format(
    'TIPS_JSON {"statuses":{%s},"retry_after_bad":%d,"p50_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"socket_errors":%d}\n', table.concat(parts, ","), bad,
    latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
