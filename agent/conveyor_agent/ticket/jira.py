"""JIRA's REST API, v2 or v3 (params `apiVersion`, default 2): v3 takes the
description and comments as Atlassian Document Format, v2 as plain text."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from conveyor_agent import errors, http, params


def document(text: str) -> dict[str, Any]:
    """Plain text as an ADF document: one paragraph per blank-line-separated block."""
    blocks = [b for b in text.split("\n\n") if b.strip()] or [""]
    content = [
        {"type": "paragraph", "content": [{"type": "text", "text": b}] if b else []} for b in blocks
    ]
    return {"type": "doc", "version": 1, "content": content}


def act(job_params: Mapping[str, Any], *, base: str, headers: Mapping[str, str]) -> dict[str, Any]:
    version = str(job_params.get("apiVersion") or "2")
    if version not in ("2", "3"):
        raise errors.JobError(f"params.apiVersion: JIRA has REST API 2 and 3, not {version}")
    api = f"{base}/rest/api/{version}"

    def text(value: str) -> Any:
        return document(value) if version == "3" else value

    def call(method: str, path: str, body: Any = None) -> Any:
        return http.request(method, api + path, headers=headers, body=body)

    action = params.required(job_params, "action")
    fields = dict(job_params.get("fields") or {})
    if job_params.get("summary") is not None:
        fields["summary"] = job_params["summary"]
    if job_params.get("description") is not None:
        fields["description"] = text(job_params["description"])
    if action == "create":
        fields["project"] = {"key": params.required(job_params, "project")}
        fields.setdefault("issuetype", {"name": "Task"})
        key = call("POST", "/issue", {"fields": fields})["key"]
    else:
        key = str(params.required(job_params, "key"))
    issue = "/issue/" + urllib.parse.quote(key)
    if action == "update":
        call("PUT", issue, {"fields": fields})
    if action == "transition":
        _transition(call, issue=issue, key=key, job_params=job_params)
    if job_params.get("comment"):
        call("POST", issue + "/comment", {"body": text(job_params["comment"])})
    found = call("GET", issue + "?fields=status,summary")["fields"]
    outputs = {"key": key, "url": f"{base}/browse/{key}", "status": found["status"]["name"]}
    if action == "read":
        outputs["summary"] = found.get("summary")
    return outputs


def _transition(call: Any, *, issue: str, key: str, job_params: Mapping[str, Any]) -> None:
    wanted = str(params.required(job_params, "transition"))
    choices = call("GET", issue + "/transitions")["transitions"]
    match = [t for t in choices if wanted in (t["id"], t["name"])]
    if not match:
        names = ", ".join(t["name"] for t in choices) or "none"
        raise errors.JobError(f"{key} has no transition {wanted!r}; it has: {names}")
    body: dict[str, Any] = {"transition": {"id": match[0]["id"]}}
    if job_params.get("fields"):
        body["fields"] = job_params["fields"]
    call("POST", issue + "/transitions", body)
