-- wrk: random 50-message history pages of one conversation.
-- env: TOKEN, GROUP, FIRST_SEQ, LAST_SEQ
local token = os.getenv("TOKEN")
local group = os.getenv("GROUP")
local first = tonumber(os.getenv("FIRST_SEQ"))
local last = tonumber(os.getenv("LAST_SEQ"))
local headers = { ["Authorization"] = "Bearer " .. token }

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

function request()
  local before = math.random(first + 50, last + 1)
  return wrk.format("GET", "/api/v1/conversations/" .. group .. "/messages?limit=50&before=" .. before, headers)
end
