-- Posters: one connection per wrk thread (run with -t N -c N); each posts a comment to one of
-- the paths in $LOAD_POST_PATHS, then waits 1 / $LOAD_POSTS_PER_USER seconds (0: no wait).
-- The wait comes before the next connection is opened, as a browser's user thinks before
-- submitting (and as a buffering proxy hands a request over whole): wrk's own delay() runs
-- after it has reconnected, and a gunicorn sync worker that accepted that connection would
-- sit idle for the whole wait, reading a request not yet sent (8 posters held 6 of the 8
-- workers so in the load benchmark). The thread sleeps in response() instead (LuaJIT's FFI;
-- each poster has a thread to itself), after wrk has taken the latency and before it
-- reconnects.
-- Civility ($LOAD_TARGET=civility): the JSON API with the thread's own bearer token from
-- $LOAD_TOKENS_FILE (one per line, thread n takes line n) and a fresh client_token.
-- Isso ($LOAD_TARGET=isso): POST /new?uri=... with an author name.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")

local counter = 0
local threads = {}

local function read_tokens()
   local tokens = {}
   local name = os.getenv("LOAD_TOKENS_FILE")
   if name and name ~= "" then
      for line in io.lines(name) do
         if line ~= "" then
            table.insert(tokens, line)
         end
      end
   end
   return tokens
end

local tokens = read_tokens()

function setup(thread)
   counter = counter + 1
   thread:set("number", counter)
   thread:set("token", tokens[(counter - 1) % math.max(#tokens, 1) + 1] or "")
   table.insert(threads, thread)
end

local WORDS = {
   "the", "talks", "treaty", "islands", "minister", "council", "budget", "schools",
   "hospital", "river", "bridge", "election", "results", "report", "city", "voters",
   "policy", "tax", "plan", "museum", "festival", "transport", "rail", "line", "station",
   "weather", "flood", "season", "farmers", "market", "prices", "energy", "wind", "solar",
   "local", "team", "match", "coach", "season", "players", "fans", "stadium", "review",
   "history", "argument", "point", "evidence", "source", "question", "answer",
}

local target = os.getenv("LOAD_TARGET") or "civility"
local paths = common.split(os.getenv("LOAD_POST_PATHS"), ",")
local rate = tonumber(os.getenv("LOAD_POSTS_PER_USER") or "2") or 2
local wait_ms = rate > 0 and math.floor(1000 / rate) or 0

-- sleep_ms(n): block this wrk thread for n ms (poll with no descriptors); nil without FFI.
local sleep_ms = nil
do
   local ok, ffi = pcall(require, "ffi")
   if ok then
      ffi.cdef("int poll(void *fds, unsigned long nfds, int timeout);")
      sleep_ms = function(ms)
         ffi.C.poll(nil, 0, ms)
      end
   end
end
local sequence = 0

-- $LOAD_POST_TRACE (a directory; diagnostics): each thread appends one line per post to
-- <dir>/<thread>.txt: the wall-clock time (s) the request was written, its latency (ms) as
-- wrk measures it, and the status, to set against the server's own record of each post.
local now_s = nil
local trace = nil
local sent_at = 0
do
   local ok, ffi = pcall(require, "ffi")
   if ok then
      ffi.cdef([[
         typedef struct { long tv_sec; long tv_nsec; } load_timespec;
         int clock_gettime(int clock, load_timespec *tp);
      ]])
      local spec = ffi.new("load_timespec")
      now_s = function()
         ffi.C.clock_gettime(0, spec)
         return tonumber(spec.tv_sec) + tonumber(spec.tv_nsec) / 1e9
      end
   end
end

local function hex(count)
   local digits = {}
   for i = 1, count do
      digits[i] = string.format("%x", math.random(0, 15))
   end
   return table.concat(digits)
end

-- The same kind of text as locustfile.comment_text: 2-4 sentences of 8-16 words, and a
-- unique tail so that no two comments are the same.
local function comment_text()
   local sentences = {}
   for s = 1, math.random(2, 4) do
      local words = {}
      for w = 1, math.random(8, 16) do
         words[w] = WORDS[math.random(#WORDS)]
      end
      local sentence = table.concat(words, " ")
      sentences[s] = sentence:sub(1, 1):upper() .. sentence:sub(2) .. "."
   end
   return table.concat(sentences, " ") .. " (" .. hex(8) .. ")"
end

local function json_string(text)
   return '"' .. text:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
   end) .. '"'
end

function init(args)
   math.randomseed(os.time() * 1000 + (number or 0) * 7919)
   -- Stagger the posters' first posts across one wait: wrk runs init() in its main thread
   -- just before it starts this thread, so thread n starts (n - 1) / $LOAD_POSTERS of a wait
   -- after the first. Started together, eight users would submit in the same millisecond
   -- at t = 0 and queue behind each other on the posts' two workers (the last one 130 ms),
   -- a burst that no real audience makes and that alone set the post p99 of a 30 s run.
   local posters = tonumber(os.getenv("LOAD_POSTERS") or "") or 0
   if sleep_ms and wait_ms > 0 and posters > 1 and number then
      sleep_ms(math.floor(wait_ms / posters))
   end
   local directory = os.getenv("LOAD_POST_TRACE")
   if directory and directory ~= "" and now_s then
      trace = assert(io.open(directory .. "/" .. tostring(number) .. ".txt", "a"))
   end
   for _ = 1, 10 do
      math.random()
   end
end

function request()
   sequence = sequence + 1
   if trace then
      -- wrk calls request() as it writes the request, and starts its latency clock there.
      sent_at = now_s()
   end
   local path = paths[math.random(#paths)]
   local headers = {["Content-Type"] = "application/json"}
   local body
   if target == "isso" then
      body = '{"text": ' .. json_string(comment_text()) .. ', "author": "poster-'
         .. tostring(number) .. '", "email": "", "website": ""}'
   else
      headers["Authorization"] = "Bearer " .. token
      body = '{"text": ' .. json_string(comment_text()) .. ', "client_token": "'
         .. hex(32) .. '"}'
   end
   return wrk.format("POST", path, headers, body)
end

function delay()
   -- Without FFI, wrk's delay (after reconnecting: see the top of this file).
   return sleep_ms and 0 or wait_ms
end

function response(status, headers, body)
   if trace then
      trace:write(string.format("%.6f %.3f %d\n", sent_at, 1000 * (now_s() - sent_at), status))
      trace:flush()
   end
   if status ~= 200 and status ~= 201 and status ~= 202 and sequence < 5 then
      io.stderr:write("post answered " .. status .. ": " .. body:sub(1, 200) .. "\n")
   end
   if sleep_ms and wait_ms > 0 then
      sleep_ms(wait_ms)
   end
end

done = common.done
