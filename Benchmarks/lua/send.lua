-- wrk: sends with unique clientMessageIds, round-robin over the conversations in GROUPS.
-- env: TOKEN, CONVERSATIONS (comma-separated ids), RUN (a nonce that keeps ids unique across runs)
local token = os.getenv("TOKEN")
local run = os.getenv("RUN")
local groups = {}
for id in string.gmatch(os.getenv("CONVERSATIONS"), "[^,]+") do groups[#groups + 1] = id end
local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  n = 0
end

function request()
  n = n + 1
  local group = groups[(n % #groups) + 1]
  local body = '{"clientMessageId":"' .. run .. "-" .. tid .. "-" .. n .. '","body":"benchmark message number ' .. n .. '"}'
  return wrk.format("POST", "/api/v1/conversations/" .. group .. "/messages", headers, body)
end

function response(status, headers, body)
  if status ~= 201 then io.stderr:write("unexpected status " .. status .. "\n") end
end
