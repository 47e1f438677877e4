-- Argo CD health check for conveyor.dev/PipelineJob
-- (argocd-cm key: resource.customizations.health.conveyor.dev_PipelineJob).
-- Argo CD runs it with the base and table libraries only: no string.*.
-- Tested by tests/deploy/test_argocd_health.py; see docs/gitops.md.
local hs = {}
local status = obj.status
if status == nil or status.state == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Conveyor operator to queue the job"
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

if state == "SUCCESS" then
  hs.status = "Healthy"
elseif state == "FAILED" then
  hs.status = "Degraded"
elseif state == "REVOKED" then
  -- Stopped on purpose (spec.revoke or replaced): not an error, not done.
  hs.status = "Suspended"
elseif state == "IN-QUEUE" or state == "RUNNING" then
  hs.status = "Progressing"
else
  hs.status = "Unknown"
end
return hs
