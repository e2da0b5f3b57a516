-- Mamori in the FreeSWITCH call path: ask before bridging an outbound call.
--
-- Written against FreeSWITCH's mod_lua and mod_curl documentation. Install as
-- scripts/mamori.lua and call it from the outbound extension (see mamori-dialplan.xml).
-- The plain-text endpoint answers one line: "allow" or "deny <rule>: <message>".
--
-- Channel variables read:
--   mamori_url            http://127.0.0.1:8080
--   mamori_key            a switch key (mamori keys create --role switch --name freeswitch)
--   mamori_failure_mode   open (let calls through when Mamori cannot be asked) or closed
-- Channel variables set: mamori_decision (allow|deny|error), mamori_reason.

local url = session:getVariable("mamori_url") or "http://127.0.0.1:8080"
local key = session:getVariable("mamori_key") or ""
local mode = session:getVariable("mamori_failure_mode") or "open"
local account = session:getVariable("accountcode") or session:getVariable("caller_id_number") or ""
local dest = session:getVariable("destination_number") or ""
local uuid = session:getVariable("uuid") or ""

local function enc(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local api = freeswitch.API()
-- mod_curl: curl <url> [headers] [json] [post <data>]; a short connect and total time-out.
local body = "callId=" .. enc(uuid) .. "&account=" .. enc(account) .. "&to=" .. enc(dest)
local cmd = url .. "/v1/calls/authorize.txt append_headers Authorization:Bearer%20" .. key ..
  " connect-timeout 1 timeout 1 post " .. body
local answer = api:execute("curl", cmd) or ""

local decision, reason = "error", "Mamori could not be asked"
if string.sub(answer, 1, 5) == "allow" then
  decision, reason = "allow", ""
elseif string.sub(answer, 1, 4) == "deny" then
  decision, reason = "deny", string.gsub(string.sub(answer, 6), "%s+$", "")
end
session:setVariable("mamori_decision", decision)
session:setVariable("mamori_reason", reason)

if decision == "deny" or (decision == "error" and mode == "closed") then
  freeswitch.consoleLog("NOTICE", "Mamori refused " .. dest .. " for " .. account .. ": " .. reason .. "\n")
  session:setVariable("sip_rh_X-Mamori-Reason", reason)
  session:hangup(decision == "deny" and "CALL_REJECTED" or "NORMAL_TEMPORARY_FAILURE")
end
