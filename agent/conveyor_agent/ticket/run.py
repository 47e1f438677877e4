"""The ticket job: one action on a JIRA issue or a ServiceNow record.

Credentials come only from the env the template sets from the Secret:
TICKET_TOKEN (a bearer token) or TICKET_USERNAME and TICKET_PASSWORD (JIRA
Cloud: e-mail and API token; basic auth). Outputs: {"key", "url", "status"}
(and "summary" on read).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from conveyor_agent import errors, params
from conveyor_agent.ticket import jira, servicenow


def auth_headers(environ: Mapping[str, str]) -> dict[str, str]:
    if environ.get("TICKET_TOKEN"):
        return {"Authorization": "Bearer " + environ["TICKET_TOKEN"]}
    if environ.get("TICKET_USERNAME"):
        pair = f"{environ['TICKET_USERNAME']}:{environ.get('TICKET_PASSWORD', '')}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    raise errors.JobError("no credentials: the Secret gives TICKET_TOKEN or TICKET_USERNAME")


def main(job_params: Mapping[str, Any], *, environ: Mapping[str, str]) -> dict[str, Any]:
    system = params.required(job_params, "system")
    base = str(params.required(job_params, "url")).rstrip("/")
    headers = auth_headers(environ)
    if system == "jira":
        return jira.act(job_params, base=base, headers=headers)
    if system == "servicenow":
        return servicenow.act(job_params, base=base, headers=headers)
    raise errors.JobError(f"params.system: {system!r} is neither jira nor servicenow")
