"""ticket against fake JIRA and ServiceNow servers that answer as the real APIs do."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from conveyor_agent import errors
from conveyor_agent.ticket import jira, run
from tests.agent import fakes

BASIC = {"TICKET_USERNAME": "bot@acme.example", "TICKET_PASSWORD": "api-token"}


def fake_jira(api: fakes.FakeApi, *, version: str = "2", status: str = "To Do") -> None:
    root = f"/rest/api/{version}"
    api.route(
        "POST",
        f"{root}/issue",
        {"id": "10001", "key": "OPS-7", "self": f"{api.url}{root}/issue/10001"},
        status=201,
    )
    api.route(
        "GET",
        f"{root}/issue/OPS-7",
        {"key": "OPS-7", "fields": {"status": {"name": status}, "summary": "Deploy"}},
    )
    api.route("PUT", f"{root}/issue/OPS-7", b"", status=204)
    api.route("POST", f"{root}/issue/OPS-7/comment", {"id": "1"}, status=201)
    api.route(
        "GET",
        f"{root}/issue/OPS-7/transitions",
        {"transitions": [{"id": "21", "name": "In Progress"}, {"id": "31", "name": "Done"}]},
    )
    api.route("POST", f"{root}/issue/OPS-7/transitions", b"", status=204)


def jira_params(api: fakes.FakeApi, **extra: Any) -> dict[str, Any]:
    return {"system": "jira", "url": api.url + "/", "credentialsSecret": {"name": "jira"}, **extra}


def test_jira_create_with_basic_auth(fake_api: fakes.FakeApi) -> None:
    fake_jira(fake_api)
    params = jira_params(
        fake_api, action="create", project="OPS", summary="Deploy api", description="v1.2.3"
    )

    outputs = run.main(params, environ=BASIC)

    assert outputs == {"key": "OPS-7", "url": f"{fake_api.url}/browse/OPS-7", "status": "To Do"}
    create = fake_api.requests[0]
    assert (create.method, create.path) == ("POST", "/rest/api/2/issue")
    assert create.body == {
        "fields": {
            "summary": "Deploy api",
            "description": "v1.2.3",
            "project": {"key": "OPS"},
            "issuetype": {"name": "Task"},
        }
    }
    expected = base64.b64encode(b"bot@acme.example:api-token").decode()
    assert create.headers["authorization"] == f"Basic {expected}"


def test_jira_v3_sends_documents_and_bearer_tokens(fake_api: fakes.FakeApi) -> None:
    fake_jira(fake_api, version="3")
    params = jira_params(
        fake_api, apiVersion="3", action="comment", key="OPS-7", comment="Rolled out.\n\nAll good."
    )

    run.main(params, environ={"TICKET_TOKEN": "pat"})

    comment = fake_api.requests[0]
    assert comment.path == "/rest/api/3/issue/OPS-7/comment"
    assert comment.body == {"body": jira.document("Rolled out.\n\nAll good.")}
    assert comment.body["body"]["content"][1]["content"][0]["text"] == "All good."
    assert comment.headers["authorization"] == "Bearer pat"


def test_jira_transition_by_name_with_a_comment(fake_api: fakes.FakeApi) -> None:
    fake_jira(fake_api, status="Done")
    params = jira_params(
        fake_api, action="transition", key="OPS-7", transition="Done", comment="ok"
    )

    outputs = run.main(params, environ=BASIC)

    assert outputs["status"] == "Done"
    calls = [(r.method, r.path) for r in fake_api.requests]
    assert calls == [
        ("GET", "/rest/api/2/issue/OPS-7/transitions"),
        ("POST", "/rest/api/2/issue/OPS-7/transitions"),
        ("POST", "/rest/api/2/issue/OPS-7/comment"),
        ("GET", "/rest/api/2/issue/OPS-7"),
    ]
    assert fake_api.requests[1].body == {"transition": {"id": "31"}}


def test_jira_unknown_transition_names_the_choices(fake_api: fakes.FakeApi) -> None:
    fake_jira(fake_api)
    params = jira_params(fake_api, action="transition", key="OPS-7", transition="Shipped")
    with pytest.raises(errors.JobError, match="no transition 'Shipped'; it has: In Progress, Done"):
        run.main(params, environ=BASIC)


def test_jira_update_and_read(fake_api: fakes.FakeApi) -> None:
    fake_jira(fake_api)
    run.main(
        jira_params(fake_api, action="update", key="OPS-7", fields={"labels": ["prod"]}),
        environ=BASIC,
    )
    assert fake_api.requests[0].body == {"fields": {"labels": ["prod"]}}
    outputs = run.main(jira_params(fake_api, action="read", key="OPS-7"), environ=BASIC)
    assert outputs["summary"] == "Deploy"


def test_jira_errors_carry_the_status_not_the_credentials(fake_api: fakes.FakeApi) -> None:
    fake_api.route(
        "GET",
        "/rest/api/2/issue/OPS-7",
        {"errorMessages": ["Issue does not exist or you do not have permission to see it."]},
        status=404,
    )
    with pytest.raises(errors.JobError) as caught:
        run.main(jira_params(fake_api, action="read", key="OPS-7"), environ=BASIC)
    assert "HTTP 404" in str(caught.value)
    assert "Issue does not exist" in str(caught.value)
    assert "api-token" not in str(caught.value)


def test_no_credentials_is_an_error() -> None:
    with pytest.raises(errors.JobError, match="no credentials"):
        run.main({"system": "jira", "url": "http://j", "action": "read", "key": "A-1"}, environ={})


# -- ServiceNow ------------------------------------------------------------------------

SYS_ID = "9d385017c611228701d22104cc95c371"
RECORD = {
    "number": "CHG0030002",
    "sys_id": SYS_ID,
    "state": "New",
    "short_description": "Deploy api 1.2.3",
}


def servicenow_params(api: fakes.FakeApi, **extra: Any) -> dict[str, Any]:
    return {"system": "servicenow", "url": api.url, "table": "change_request", **extra}


def test_servicenow_create(fake_api: fakes.FakeApi) -> None:
    fake_api.route("POST", "/api/now/table/change_request", {"result": RECORD}, status=201)

    outputs = run.main(
        servicenow_params(
            fake_api, action="create", summary="Deploy api 1.2.3", fields={"risk": "low"}
        ),
        environ=BASIC,
    )

    assert outputs == {
        "key": "CHG0030002",
        "url": f"{fake_api.url}/nav_to.do?uri=change_request.do?sys_id={SYS_ID}",
        "status": "New",
    }
    (create,) = fake_api.requests
    assert create.body == {"risk": "low", "short_description": "Deploy api 1.2.3"}
    assert create.query["sysparm_fields"] == "number,sys_id,state,short_description"


@pytest.mark.parametrize(
    ("key", "query"), [("CHG0030002", "number=CHG0030002"), (SYS_ID, f"sys_id={SYS_ID}")]
)
def test_servicenow_transition_finds_the_record_then_patches_it(
    fake_api: fakes.FakeApi, key: str, query: str
) -> None:
    fake_api.route("GET", "/api/now/table/change_request", {"result": [RECORD]})
    fake_api.route(
        "PATCH",
        f"/api/now/table/change_request/{SYS_ID}",
        {"result": {**RECORD, "state": "Implement"}},
    )

    outputs = run.main(
        servicenow_params(fake_api, action="transition", key=key, transition="-1", comment="go"),
        environ={"TICKET_TOKEN": "t"},
    )

    assert outputs["status"] == "Implement"
    find, patch = fake_api.requests
    assert find.query["sysparm_query"] == query
    assert patch.body == {"comments": "go", "state": "-1"}


def test_servicenow_read_of_a_missing_record(fake_api: fakes.FakeApi) -> None:
    fake_api.route("GET", "/api/now/table/incident", {"result": []})
    params = {**servicenow_params(fake_api, action="read", key="INC0000001"), "table": "incident"}
    with pytest.raises(errors.JobError, match="no record INC0000001 in table incident"):
        run.main(params, environ=BASIC)
