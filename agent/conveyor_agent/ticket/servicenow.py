"""ServiceNow's Table API: records of a table (change_request, incident, ...)
found by number or sys_id; comments and state changes are field updates."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from conveyor_agent import errors, http, params

_SYS_ID = re.compile(r"^[0-9a-f]{32}$")
# Only these fields come back: enough for the outputs, nothing the record may hide.
_FIELDS = "number,sys_id,state,short_description"


def act(job_params: Mapping[str, Any], *, base: str, headers: Mapping[str, str]) -> dict[str, Any]:
    table_name = str(params.required(job_params, "table"))
    table = f"{base}/api/now/table/{urllib.parse.quote(table_name)}"
    action = params.required(job_params, "action")
    fields = dict(job_params.get("fields") or {})
    for param, field in (("summary", "short_description"), ("description", "description")):
        if job_params.get(param) is not None:
            fields[field] = job_params[param]
    if job_params.get("comment"):
        fields["comments"] = job_params["comment"]
    if action == "transition":
        fields["state"] = params.required(job_params, "transition")
    keep = {"sysparm_fields": _FIELDS, "sysparm_display_value": "true"}
    if action == "create":
        record = http.request("POST", http.url(table, "", keep), headers=headers, body=fields)
    else:
        key = str(params.required(job_params, "key"))
        by = "sys_id" if _SYS_ID.match(key) else "number"
        query = {"sysparm_query": f"{by}={key}", "sysparm_limit": 1, **keep}
        found = http.request("GET", http.url(table, "", query), headers=headers)["result"]
        if not found:
            raise errors.JobError(f"no record {key} in table {table_name}")
        record = {"result": found[0]}
        if action != "read":
            target = http.url(table, "/" + found[0]["sys_id"], keep)
            record = http.request("PATCH", target, headers=headers, body=fields)
    result = record["result"]
    outputs = {
        "key": result["number"],
        "url": f"{base}/nav_to.do?uri={table_name}.do?sys_id={result['sys_id']}",
        "status": result.get("state", ""),
    }
    if action == "read":
        outputs["summary"] = result.get("short_description")
    return outputs
