-- Readers: GET the paths in $LOAD_READ_PATHS (comma-separated) in turn, no think time.
-- They send "Accept-Encoding: $LOAD_READ_ENCODING" (load.py: gzip, as every browser does;
-- empty: no such header). wrk counts the bytes as they come and decompresses nothing.
--   LOAD_READ_PATHS=/news/x/discussion/ LOAD_WRK_OUT=read.json \
--     wrk -t2 -c56 -d60s -s benchmarks/wrk/readers.lua http://127.0.0.1:8031
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")

local paths = common.split(os.getenv("LOAD_READ_PATHS"), ",")
local encoding = os.getenv("LOAD_READ_ENCODING") or ""
local requests = {}
local next_index = 1

function init(args)
   for index, path in ipairs(paths) do
      local headers = {}
      if encoding ~= "" then
         headers["Accept-Encoding"] = encoding
      end
      requests[index] = wrk.format("GET", path, headers)
   end
   next_index = math.random(#requests)
end

function request()
   local this = requests[next_index]
   next_index = next_index % #requests + 1
   return this
end

done = common.done
