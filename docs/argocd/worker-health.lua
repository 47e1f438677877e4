-- Argo CD health check for conveyor.dev/Worker
-- (argocd-cm key: resource.customizations.health.conveyor.dev_Worker).
-- Argo CD runs it with the base and table libraries only: no string.*.
-- Tested by tests/deploy/test_argocd_health.py; see docs/gitops.md.
local hs = {}
local status = obj.status
if status == nil or status.state == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Conveyor operator to pick up the Worker"
  return hs
end

local generation = obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Conveyor operator to apply the change"
  return hs
end

local state = status.state
local text = state
if status.reason ~= nil and status.reason ~= "" then
  text = text .. " (" .. status.reason .. ")"
end
if status.message ~= nil and status.message ~= "" then
  text = text .. ": " .. status.message
end
hs.message = text

if state == "ONLINE" then
  hs.status = "Healthy"
elseif state == "PAUSED" then
  hs.status = "Suspended"
elseif state == "DEGRADED" or state == "OFFLINE" then
  hs.status = "Degraded"
else
  hs.status = "Unknown"
end
return hs
