-- The wrk script of `make bench`: whole invocations by signed-in users, every answer checked.
--
--   wrk -tN -cN -dS --timeout T -s bench/load.lua URL -- LINES MARKERS N [script]
--
-- One connection per wrk thread (-t and -c equal), so a thread's state is one user's: it sends
-- the invoke form and, when the answer is a 303, a GET of its Location before the next
-- invocation; the pair counts as one invocation, timed from the POST to the last answer.
-- "script": the POST carries HX-Request: true (htmx) and must be answered 200 + HX-Push-Url.
--   LINES    file of "path<TAB>Cookie header<TAB>form body" lines, one signed-in user each;
--            thread k takes lines k, k+N, k+2N, ... so no two connections share a user
--   MARKERS  "|"-separated texts that every final answer (a 200) must contain; anything
--            else (another status, a page without them) counts as an error
-- done() prints one line, BENCH{...}: invocations, errors, 303s seen, latencies in µs.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *now);
]])
local clock = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1e6 + tonumber(clock.tv_nsec) / 1e3
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local posts, cookies, markers, script = {}, {}, {}, false
local step, index, follow, cookie, started = 1, 0, nil, "", 0
lat, good, bad, redirected, first_bad = {}, 0, 0, 0, ""

function init(args)
  script = args[4] == "script"
  for line in io.lines(args[1]) do
    local path, c, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    if path then
      local headers = { ["Content-Type"] = "application/x-www-form-urlencoded",
        Cookie = c ~= "" and c or nil, ["HX-Request"] = script and "true" or nil }
      table.insert(posts, wrk.format("POST", path, headers, body))
      table.insert(cookies, c)
    end
  end
  for marker in (args[2] or ""):gmatch("[^|]+") do
    table.insert(markers, marker)
  end
  step = tonumber(args[3]) or 1
  index = id % #posts
end

function request()
  if follow then
    return wrk.format("GET", follow, { Cookie = cookie ~= "" and cookie or nil })
  end
  local i = index + 1
  index = (index + step) % #posts
  cookie, started = cookies[i], now_us()
  return posts[i]
end

local function failed(status, body)
  bad = bad + 1
  if first_bad == "" then
    first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 300)
  end
end

function response(status, headers, body)
  if follow == nil and status == 303 then
    local location = headers["Location"] or headers["location"]
    if location then
      follow = location:gsub("^https?://[^/]+", ""):gsub("#.*$", "")
      redirected = redirected + 1
      return
    end
  end
  follow = nil
  if status ~= 200 or (script and not (headers["HX-Push-Url"] or headers["hx-push-url"])) then
    return failed(status, body)
  end
  for _, marker in ipairs(markers) do
    if not (body and body:find(marker, 1, true)) then
      return failed(status, body)
    end
  end
  good = good + 1
  lat[#lat + 1] = now_us() - started
end

function done(summary, latency, requests)
  local all, g, b, r, first = {}, 0, 0, 0, ""
  for _, t in ipairs(threads) do
    g, b, r = g + t:get("good"), b + t:get("bad"), r + t:get("redirected")
    if first == "" then
      first = t:get("first_bad")
    end
    for _, v in ipairs(t:get("lat")) do
      all[#all + 1] = v
    end
  end
  table.sort(all)
  local function pct(p)
    return #all > 0 and all[math.max(1, math.ceil(#all * p))] or 0
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH{"good":%d,"bad":%d,"redirected":%d,"requests":%d,"duration_us":%d,'
      .. '"socket_errors":%d,"timeouts":%d,"p50_us":%.1f,"p99_us":%.1f,"max_us":%.1f,'
      .. '"first_bad":"%s"}\n',
    g, b, r, summary.requests, summary.duration, e.connect + e.read + e.write, e.timeout,
    pct(0.5), pct(0.99), pct(1), first:gsub('[%c"\\]', " ")))
end
