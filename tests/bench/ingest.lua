-- wrk script for tests/bench/bench_ingest.sh: POST report batches of BATCH reports, each report a
-- copy of the template report (hex in REPORT_HEX, as `pinhole encode` made it) with a fresh,
-- unique 16-byte report id, so that every report is new to the server's replay check.
local hex = os.getenv("REPORT_HEX")
local batch = tonumber(os.getenv("BATCH") or "1")
local tpl = hex:gsub("..", function(h) return string.char(tonumber(h, 16)) end)
local pre, post = tpl:sub(1, 32), tpl:sub(49)       -- the id is bytes 32..47 of a report
local function u32(x)
  return string.char(x % 256, math.floor(x / 256) % 256, math.floor(x / 65536) % 256,
                     math.floor(x / 16777216) % 256)
end
local header = string.char(1, 0, 0, 0) .. u32(batch)
local itemlen = u32(#tpl)
local counter, nthreads = 0, 0

function setup(thread) -- in the main Lua state; tid becomes a global of the thread's state
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end

function init(args)
  math.randomseed(tid * 7919 + os.time())
  salt = string.char(tid % 256, math.random(0, 255), math.random(0, 255), math.random(0, 255))
end

local function id()
  counter = counter + 1
  local c, bytes = counter, {}
  for i = 1, 8 do bytes[i] = c % 256; c = math.floor(c / 256) end
  return salt .. string.char(unpack(bytes)) .. "ph1!"  -- 4 + 8 + 4 = 16 bytes
end

function request()
  local parts = {header}
  for i = 1, batch do
    parts[#parts + 1] = itemlen .. pre .. id() .. post
  end
  return wrk.format("POST", nil, {["Content-Type"] = "application/octet-stream"},
                    table.concat(parts))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("reports/s %.0f (requests/s %.0f x %d reports); non-2xx %d, socket " ..
    "errors: connect %d, read %d, write %d, timeout %d\n",
    summary.requests / (summary.duration / 1e6) * batch, summary.requests / (summary.duration / 1e6),
    batch, e.status, e.connect, e.read, e.write, e.timeout))
end
