-- Shared by readers.lua and posters.lua (benchmarks/load.py --generator wrk).
-- done() writes the run's figures as JSON to $LOAD_WRK_OUT: requests, errors, duration and
-- the latency percentiles wrk measured (microseconds).

local common = {}

function common.split(text, separator)
   local parts = {}
   for part in string.gmatch(text or "", "[^" .. separator .. "]+") do
      table.insert(parts, part)
   end
   return parts
end

function common.done(summary, latency, requests)
   local errors = summary.errors
   local failed = errors.connect + errors.read + errors.write + errors.status + errors.timeout
   local lines = {
      '"requests": ' .. summary.requests,
      '"duration_us": ' .. summary.duration,
      '"bytes": ' .. summary.bytes,
      '"errors": ' .. failed,
      '"errors_connect": ' .. errors.connect,
      '"errors_read": ' .. errors.read,
      '"errors_write": ' .. errors.write,
      '"errors_status": ' .. errors.status,
      '"errors_timeout": ' .. errors.timeout,
      '"latency_mean_us": ' .. latency.mean,
      '"latency_max_us": ' .. latency.max,
   }
   for _, p in ipairs({50, 75, 90, 95, 99, 99.9}) do
      table.insert(lines, string.format('"latency_p%s_us": %d', tostring(p), latency:percentile(p)))
   end
   local out = os.getenv("LOAD_WRK_OUT")
   local text = "{" .. table.concat(lines, ", ") .. "}\n"
   if out and out ~= "" then
      local handle = assert(io.open(out, "w"))
      handle:write(text)
      handle:close()
   else
      io.write(text)
   end
end

return common
