-- wrk script for bench/serve.sh: each request is one sequence, by default
-- for the quickstart model (3 features, 60 to 150 steps, as
-- examples/quickstart.npz has), in the Open Inference Protocol's JSON. The
-- sequences are drawn once per thread from a fixed seed, so every run sends
-- the same requests.
--
-- Arguments, all optional, in order: the answers after which a thread stops
-- (default 1000000), so a run is bounded in requests as well as in time; a
-- fixed number of steps for every sequence (0: drawn); the features per
-- step (3); the fewest and the most steps drawn (60 and 150).

local bodies = {}
local next_body = 1
local answered, max_requests, fixed_steps = 0, 1000000, 0
local features, min_steps, max_steps = 3, 60, 150
local thread_id = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("id", thread_id)
end

local function sequence_body(steps)
  local data = {}
  for i = 1, steps * features do
    -- a sum of uniforms: roughly normal, and cheap
    local v = (math.random() + math.random() + math.random() - 1.5) * 2
    data[i] = string.format("%.4f", v)
  end
  return string.format(
    '{"inputs":[{"name":"x","shape":[1,%d,%d],"datatype":"FP32","data":[%s]},' ..
    '{"name":"lengths","shape":[1],"datatype":"INT32","data":[%d]}]}',
    steps, features, table.concat(data, ","), steps)
end

function init(args)
  if args[1] then
    max_requests = tonumber(args[1])
  end
  if args[2] then
    fixed_steps = tonumber(args[2])
  end
  if args[3] then
    features = tonumber(args[3])
  end
  if args[4] and args[5] then
    min_steps, max_steps = tonumber(args[4]), tonumber(args[5])
  end
  math.randomseed(1000 + id)
  for i = 1, 256 do
    local steps = min_steps + math.random(0, max_steps - min_steps)
    if fixed_steps > 0 then
      steps = fixed_steps
    end
    bodies[i] = sequence_body(steps)
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  answered = answered + 1
  if answered >= max_requests then
    wrk.thread:stop()
  end
end

-- One line of JSON for bench/serve.sh: requests/s, latency percentiles in
-- milliseconds, and the answers that were not 200.
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"non_2xx":%d,"socket_errors":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
