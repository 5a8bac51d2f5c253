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
   for _ = 1, 10 do
      math.random()
   end
end

function request()
   sequence = sequence + 1
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
   if status ~= 200 and status ~= 201 and status ~= 202 and sequence < 5 then
      io.stderr:write("post answered " .. status .. ": " .. body:sub(1, 200) .. "\n")
   end
   if sleep_ms and wait_ms > 0 then
      sleep_ms(wait_ms)
   end
end

done = common.done
