-- wrk script for the benchmarks: round-robin over signed-in sessions, checked answers.
--
-- wrk ... -s bench/load.lua URL -- SESSIONS METHOD PATH KIND EXPECT
--   SESSIONS  file of "cookie<TAB>csrf" lines (one signed-in session each), or "-" for none
--   METHOD    GET or POST
--   PATH      request path
--   KIND      invoke (the console's invoke form, CSRF token filled in), json (a gateway
--             body, for the stub itself) or none (no body)
--   EXPECT    text every good answer contains (e.g. badge-success); an answer that is not a
--             200 or lacks it counts as bad, so a friendly error page is never a success
-- done() prints one line: BENCH{...json...} with counts and latency percentiles in µs.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local sessions, method, path, kind, expect = {}, "GET", "/", "none", nil
-- The Echo function's sample as the page shows it; browsers send textarea lines as CRLF.
local payload = "%7B%0D%0A%20%20%22message%22%3A%20%22ping%22%2C%0D%0A%20%20%22count%22%3A%201%0D%0A%7D"
local gateway_body = '{"timestamp":1700000000000,"headers":[],"payload":{"message":"ping","count":1}}'
local bodies, headers = {}, {}
local next_index = 0
bad = 0
good = 0
first_bad = ""

function init(args)
  local file = args[1] or "-"
  method, path, kind, expect = args[2] or "GET", args[3] or "/", args[4] or "none", args[5]
  if file ~= "-" then
    for line in io.lines(file) do
      local cookie, csrf = line:match("^([^\t]+)\t?(.*)$")
      if cookie then
        table.insert(sessions, { cookie = cookie, csrf = csrf })
      end
    end
  end
  if #sessions == 0 then
    table.insert(sessions, { cookie = nil, csrf = "" })
  end
  local target = path:match("/functions/([%x-]+)") or ""
  for i, s in ipairs(sessions) do
    local h = {}
    if s.cookie then
      h["Cookie"] = s.cookie
    end
    local body = nil
    if kind == "invoke" then
      h["Content-Type"] = "application/x-www-form-urlencoded"
      body = "csrf_token=" .. s.csrf .. "&payload=" .. payload
        .. "&header_name=&header_value=&header_name=&header_value="
        .. "&skill_id=&event_source=&kind=function&target=" .. target .. "&name="
    elseif kind == "json" then
      h["Content-Type"] = "application/json"
      body = gateway_body
    end
    headers[i], bodies[i] = h, body
  end
  -- Threads start at different sessions, so they do not move in lockstep.
  next_index = math.random(#sessions) - 1
end

function request()
  next_index = next_index % #sessions + 1
  return wrk.format(method, path, headers[next_index], bodies[next_index])
end

function response(status, hdrs, body)
  if status == 200 and (expect == nil or (body and body:find(expect, 1, true))) then
    good = good + 1
  else
    bad = bad + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local b, g, first = 0, 0, ""
  for _, t in ipairs(threads) do
    b = b + (t:get("bad") or 0)
    g = g + (t:get("good") or 0)
    if first == "" then
      first = t:get("first_bad") or ""
    end
  end
  local e = summary.errors
  first = first:gsub("[%c\"\\]", " ")
  io.write(string.format(
    'BENCH{"requests":%d,"duration_us":%d,"good":%d,"bad":%d,"connect":%d,"read":%d,'
      .. '"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,'
      .. '"mean":%d,"first_bad":"%s"}\n',
    summary.requests, summary.duration, g, b, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, math.floor(latency.mean), first))
end
