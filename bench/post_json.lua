-- wrk script: POST JSON bodies round robin and count every non-2xx response.
--
--   wrk -t2 -c8 -d10s --latency -s bench/post_json.lua http://127.0.0.1:8000/v1/predict -- bodies.jsonl
--
-- bodies.jsonl holds one JSON body per line. wrk's own summary counts only statuses >= 400
-- ("Non-2xx or 3xx responses"); this script counts anything outside 200-299, and done() prints one
-- machine-readable line, `WRK_JSON {...}`, with the totals and latency percentiles in microseconds.
-- Used by scripts/load_test.sh and bench/api_speed.py.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local path = args[1]
   if path == nil then
      error("usage: wrk ... -s post_json.lua URL -- BODIES_FILE")
   end
   bodies = {}
   for line in io.lines(path) do
      if line:match("%S") then
         table.insert(bodies, line)
      end
   end
   if #bodies == 0 then
      error("no bodies in " .. path)
   end
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   next_body = id % #bodies  -- threads start at different bodies
   bad = 0
   first_bad = 0
end

function request()
   next_body = next_body % #bodies + 1
   return wrk.format(nil, nil, nil, bodies[next_body])
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      bad = bad + 1
      if first_bad == 0 then
         first_bad = status
      end
   end
end

function done(summary, latency, requests)
   local bad_total, first = 0, 0
   for _, thread in ipairs(threads) do
      bad_total = bad_total + thread:get("bad")
      if first == 0 then
         first = thread:get("first_bad")
      end
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "non2xx": %d, "first_bad_status": %d, ' ..
      '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, ' ..
      '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
      summary.requests, summary.duration, bad_total, first,
      e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
