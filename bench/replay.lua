-- wrk script: replay pre-built HTTP requests, one per call, rotating through a file.
--
-- BENCH_REQUESTS names a file of records "<length>\n<raw HTTP/1.1 request>" made by
-- bench/requests.py (signed Stripe deliveries, or reads). Run wrk with -t1: one
-- Lua state walks the file in order, so each request is sent once until the file
-- is exhausted; then it starts over and counts a wrap (a write benchmark that
-- wraps sends duplicates and is flagged by the runner).
-- Run with -t1 (the pre-send check call of wrk below assumes one thread).
-- done() prints one line "BENCH {json}" with the figures the runner reads.

local path = os.getenv("BENCH_REQUESTS")
local requests_ = {}
local count = 0
local index = 0
issued = 0
wrapped = 0
local threads = {}
local verified = false

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local file = assert(io.open(path, "rb"))
   local data = file:read("*a")
   file:close()
   local pos = 1
   while pos <= #data do
      local newline = string.find(data, "\n", pos, true)
      local length = tonumber(string.sub(data, pos, newline - 1))
      count = count + 1
      requests_[count] = string.sub(data, newline + 1, newline + length)
      pos = newline + length + 1
   end
end

function request()
   -- wrk calls request() once on thread 0 before sending anything, to check the
   -- request (script_verify_request): serve the first one without spending it.
   if not verified then
      verified = true
      return requests_[1]
   end
   index = index + 1
   if index > count then
      index = 1
      wrapped = wrapped + 1
   end
   issued = issued + 1
   return requests_[index]
end

function done(summary, latency, requests)
   local issued_total, wrapped_total = 0, 0
   for _, thread in ipairs(threads) do
      issued_total = issued_total + thread:get("issued")
      wrapped_total = wrapped_total + thread:get("wrapped")
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH {"requests":%d,"duration_us":%d,"errors_connect":%d,"errors_read":%d,' ..
      '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"p50_us":%d,' ..
      '"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"issued":%d,"wrapped":%d}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, issued_total, wrapped_total))
end
