"""spec.params per job type: what is accepted, and how a refusal names the field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pydantic
import pytest

from conveyor.core import model, params

J = model.JobType
DIGEST = "sha256:" + "0" * 64
CHART = {"name": "api", "repository": "https://charts.example.com"}

# The smallest params each job type accepts.
MINIMAL: Mapping[model.JobType, Mapping[str, Any]] = {
    J.BUILD: {
        "repository": "https://github.com/acme/api.git",
        "image": "registry.example.com/acme/api:1.2.3",
    },
    J.CUSTOM: {"image": "alpine:3.20"},
    J.DEPLOY: {"chart": CHART, "release": "api", "targetNamespace": "staging"},
    J.PROMOTE: {
        "chart": CHART,
        "release": "api",
        "targetNamespace": "production",
        "image": "registry.example.com/acme/api",
        "digest": DIGEST,
        "fromEnvironment": "staging",
        "toEnvironment": "production",
    },
    J.TICKET: {
        "system": "jira",
        "action": "create",
        "url": "https://acme.atlassian.net",
        "credentialsSecret": "jira-bot",
        "project": "OPS",
        "summary": "Deploy api 1.2.3",
    },
    J.CANARY_ANALYSIS: {
        "baseline": "api-baseline",
        "canary": "api-canary",
        "duration": "10m",
        "metrics": [{"name": "error-rate", "query": "sum(rate(http_errors_total[1m]))"}],
    },
    J.CLONE_ENV: {"source": "staging", "target": "staging-copy"},
    J.ANDROID_BUILD: {"repository": "https://github.com/acme/app.git"},
    J.ANDROID_DEPLOY: {
        "artifact": "https://artifacts.example.com/app-release.aab",
        "store": "play",
        "packageName": "com.acme.app",
        "track": "internal",
        "credentialsSecret": "play-publisher",
    },
    J.DELAY: {"duration": "30s"},
}


def given(job_type: model.JobType, changes: Mapping[str, Any] = {}, *drop: str) -> dict[str, Any]:
    """MINIMAL[job_type] with `changes` applied and the `drop` keys removed."""
    out = {**MINIMAL[job_type], **changes}
    for key in drop:
        del out[key]
    return out


def ok(job_type: model.JobType, raw: Any) -> pydantic.BaseModel:
    result = params.validate(job_type=job_type, params=raw)
    assert not isinstance(result, model.SpecError), str(result)
    return result


def refused(job_type: model.JobType, raw: Any) -> model.SpecError:
    result = params.validate(job_type=job_type, params=raw)
    assert isinstance(result, model.SpecError), result
    return result


def at(field: str) -> str:
    """The path a SpecError names for a field of the tables below ("" is params itself)."""
    return f"spec.params.{field}" if field else "spec.params"


def test_every_job_type_has_params_and_an_example() -> None:
    assert set(params.PARAMS) == set(J)
    assert set(MINIMAL) == set(J)


@pytest.mark.parametrize("job_type", list(J))
def test_the_minimal_example_is_accepted(job_type: model.JobType) -> None:
    assert isinstance(ok(job_type, MINIMAL[job_type]), params.PARAMS[job_type])


@pytest.mark.parametrize("job_type", list(J))
def test_the_json_dump_is_camel_case_and_validates_again(job_type: model.JobType) -> None:
    parsed = ok(job_type, MINIMAL[job_type])
    dumped = parsed.model_dump(by_alias=True, mode="json")
    json.dumps(dumped)
    assert set(MINIMAL[job_type]) <= set(dumped)
    assert ok(job_type, dumped) == parsed


@pytest.mark.parametrize(
    ("job_type", "raw", "expected"),
    [
        (J.BUILD, MINIMAL[J.BUILD], {"revision": "main", "context": ".", "cache": False}),
        (J.BUILD, MINIMAL[J.BUILD], {"dockerfile": "Dockerfile", "buildArgs": {}}),
        (
            J.BUILD,
            given(J.BUILD, {"pushSecret": "regcred"}),
            {"pushSecret": {"name": "regcred", "key": None}},
        ),
        (J.DEPLOY, MINIMAL[J.DEPLOY], {"wait": True, "timeout": "5m", "values": {}}),
        (J.DELAY, {"duration": "90s"}, {"duration": "1m30s"}),
        (
            J.CANARY_ANALYSIS,
            MINIMAL[J.CANARY_ANALYSIS],
            {"provider": "prometheus", "interval": "1m", "passScore": 95.0},
        ),
        (
            J.ANDROID_BUILD,
            MINIMAL[J.ANDROID_BUILD],
            {"gradleTask": "assembleRelease", "output": "apk", "module": "app"},
        ),
        (
            J.ANDROID_BUILD,
            given(J.ANDROID_BUILD, {"output": "aab"}),
            {"gradleTask": "bundleRelease"},
        ),
        (
            J.ANDROID_BUILD,
            given(J.ANDROID_BUILD, {"flavor": "free", "buildType": "debug"}),
            {"gradleTask": "assembleFreeDebug"},
        ),
        (
            J.ANDROID_BUILD,
            given(J.ANDROID_BUILD, {"output": "aab", "gradleTask": ":app:bundleProd"}),
            {"gradleTask": ":app:bundleProd"},
        ),
        (
            J.DEPLOY,
            given(J.DEPLOY, {"manifests": ["k8s/"], "values": {}}, "chart", "release"),
            {"manifests": ["k8s/"]},
        ),
    ],
)
def test_defaults_and_dumped_values(
    job_type: model.JobType, raw: Mapping[str, Any], expected: Mapping[str, Any]
) -> None:
    dumped = ok(job_type, raw).model_dump(by_alias=True, mode="json")
    assert {key: dumped[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("job_type", "raw"),
    [
        (
            J.CUSTOM,
            given(J.CUSTOM, {"command": ["sh", "-c"], "args": ["make test"], "workingDir": "/src"}),
        ),
        (
            J.CUSTOM,
            given(
                J.CUSTOM,
                {
                    "env": [
                        {"name": "MODE", "value": "ci"},
                        {
                            "name": "TOKEN",
                            "valueFrom": {"secretKeyRef": {"name": "ci-token", "key": "token"}},
                        },
                        {
                            "name": "LEVEL",
                            "valueFrom": {"configMapKeyRef": {"name": "ci", "key": "level"}},
                        },
                    ]
                },
            ),
        ),
        (
            J.DEPLOY,
            given(
                J.DEPLOY,
                {
                    "values": {"replicas": 3, "image": {"tag": "1.2.3"}},
                    "timeout": "10m",
                    "wait": False,
                },
            ),
        ),
        (
            J.DEPLOY,
            given(
                J.DEPLOY,
                {
                    "valuesFrom": [
                        {"kind": "Secret", "name": "api-values", "valuesKey": "prod.yaml"}
                    ]
                },
            ),
        ),
        (
            J.DEPLOY,
            given(J.DEPLOY, {"manifests": ["https://example.com/api.yaml"]}, "chart", "release"),
        ),
        (J.DEPLOY, given(J.DEPLOY, {"rollbackOnFailure": True})),
        (J.DEPLOY, given(J.DEPLOY, {"rollback": {"revision": 3}}, "chart")),
        (J.DEPLOY, given(J.DEPLOY, {"rollback": {}}, "chart")),
        (J.TICKET, given(J.TICKET, {"apiVersion": "3"})),
        (J.CLONE_ENV, given(J.CLONE_ENV, {"secrets": "skip", "dryRun": True})),
        (
            J.TICKET,
            given(
                J.TICKET,
                {
                    "action": "transition",
                    "key": "OPS-1",
                    "transition": "Done",
                    "comment": "deployed",
                },
                "project",
                "summary",
            ),
        ),
        (J.TICKET, given(J.TICKET, {"action": "read", "key": "OPS-1"}, "project", "summary")),
        (
            J.TICKET,
            given(
                J.TICKET,
                {"system": "servicenow", "table": "change_request", "fields": {"risk": "low"}},
                "project",
            ),
        ),
        (J.TICKET, given(J.TICKET, {"credentialsSecret": {"name": "jira-bot", "key": "token"}})),
        (
            J.CANARY_ANALYSIS,
            given(
                J.CANARY_ANALYSIS,
                {
                    "provider": "datadog",
                    "credentialsSecret": "dd",
                    "interval": "30s",
                    "passScore": 80,
                },
            ),
        ),
        (
            J.CLONE_ENV,
            given(
                J.CLONE_ENV,
                {
                    "include": ["ConfigMap", "Secret"],
                    "overrides": {"replicas": 1},
                    "overwrite": True,
                },
            ),
        ),
        (
            J.ANDROID_BUILD,
            given(J.ANDROID_BUILD, {"revision": "v2.0.0", "signingSecret": "upload-key"}),
        ),
        (J.ANDROID_DEPLOY, given(J.ANDROID_DEPLOY, {"track": "production", "rollout": 0.1})),
        (
            J.ANDROID_DEPLOY,
            given(
                J.ANDROID_DEPLOY,
                {"store": "firebase", "appId": "1:123:android:abc", "groups": ["qa"]},
                "packageName",
                "track",
            ),
        ),
        (
            J.ANDROID_DEPLOY,
            given(
                J.ANDROID_DEPLOY,
                {"store": "artifactory", "destination": "https://artifactory.example.com/android"},
                "packageName",
                "track",
            ),
        ),
        (J.DELAY, {"duration": "1h30m"}),
    ],
)
def test_fuller_examples_are_accepted(job_type: model.JobType, raw: Mapping[str, Any]) -> None:
    ok(job_type, raw)


@pytest.mark.parametrize(
    ("job_type", "missing"),
    [
        (J.BUILD, "repository"),
        (J.BUILD, "image"),
        (J.CUSTOM, "image"),
        (J.PROMOTE, "image"),
        (J.PROMOTE, "digest"),
        (J.PROMOTE, "fromEnvironment"),
        (J.TICKET, "system"),
        (J.TICKET, "action"),
        (J.TICKET, "credentialsSecret"),
        (J.CANARY_ANALYSIS, "metrics"),
        (J.CANARY_ANALYSIS, "duration"),
        (J.CLONE_ENV, "target"),
        (J.ANDROID_BUILD, "repository"),
        (J.ANDROID_DEPLOY, "artifact"),
        (J.ANDROID_DEPLOY, "credentialsSecret"),
        (J.DELAY, "duration"),
    ],
)
def test_a_missing_required_field_is_named(job_type: model.JobType, missing: str) -> None:
    error = refused(job_type, given(job_type, {}, missing))
    assert (error.field, error.message) == (f"spec.params.{missing}", "Field required")


@pytest.mark.parametrize("job_type", list(J))
def test_an_unknown_field_is_named_and_the_known_ones_listed(job_type: model.JobType) -> None:
    error = refused(job_type, given(job_type, {"colour": "blue"}))
    assert error.field == "spec.params.colour"
    assert error.message.startswith("unknown field; the params of this job type are: ")
    assert all(key in error.message for key in MINIMAL[job_type])


@pytest.mark.parametrize(
    ("job_type", "changes", "field"),
    [
        (J.BUILD, {"dockerFile": "Dockerfile"}, "dockerFile"),
        (J.DEPLOY, {"chart": {**CHART, "url": "x"}}, "chart.url"),
        (J.CUSTOM, {"env": [{"name": "A", "val": "1"}]}, "env[0].val"),
    ],
)
def test_an_unknown_nested_field_is_named(
    job_type: model.JobType, changes: Mapping[str, Any], field: str
) -> None:
    error = refused(job_type, given(job_type, changes))
    assert error.field == at(field)
    assert error.message.startswith("unknown field")


@pytest.mark.parametrize(
    ("job_type", "changes", "field"),
    [
        (J.BUILD, {"password": "hunter2"}, "password"),
        (J.BUILD, {"pushSecret": {"name": "regcred", "password": "x"}}, "pushSecret.password"),
        (J.TICKET, {"apiToken": "abc"}, "apiToken"),
        (
            J.TICKET,
            {"credentialsSecret": {"name": "jira", "token": "abc"}},
            "credentialsSecret.token",
        ),
        (J.CANARY_ANALYSIS, {"apiKey": "abc"}, "apiKey"),
        (J.ANDROID_DEPLOY, {"credentials": {"json": "{}"}}, "credentials"),
        (J.ANDROID_BUILD, {"keystorePassword": "x"}, "keystorePassword"),
    ],
)
def test_secret_values_are_refused_inline(
    job_type: model.JobType, changes: Mapping[str, Any], field: str
) -> None:
    error = refused(job_type, given(job_type, changes))
    assert error.field == at(field)
    assert "name a Secret instead" in error.message


@pytest.mark.parametrize(
    ("job_type", "changes", "field", "message"),
    [
        (J.BUILD, {"buildArgs": {"FOO": 1}}, "buildArgs.FOO", "valid string"),
        (J.BUILD, {"buildArgs": ["FOO=1"]}, "buildArgs", "valid dictionary"),
        (J.BUILD, {"cache": "sometimes"}, "cache", "valid boolean"),
        (J.BUILD, {"image": ""}, "image", "at least 1 character"),
        (J.BUILD, {"pushSecret": "Reg Cred"}, "pushSecret.name", "not a Kubernetes object name"),
        (J.BUILD, {"pushSecret": 5}, "pushSecret", "valid dictionary"),
        (J.CUSTOM, {"command": "make test"}, "command", "valid list"),
        (J.CUSTOM, {"env": [{"value": "1"}]}, "env[0].name", "Field required"),
        (
            J.CUSTOM,
            {"env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s"}}}]},
            "env[0].valueFrom.secretKeyRef.key",
            "Field required",
        ),
        (J.DEPLOY, {"targetNamespace": "Prod_NS"}, "targetNamespace", "not a namespace name"),
        (J.DEPLOY, {"timeout": "5 minutes"}, "timeout", "not a duration"),
        (
            J.DEPLOY,
            {"valuesFrom": [{"kind": "Deployment", "name": "x"}]},
            "valuesFrom[0].kind",
            "'ConfigMap' or 'Secret'",
        ),
        (J.DEPLOY, {"chart": "api"}, "chart", "valid dictionary"),
        (J.DEPLOY, {"manifests": [], "chart": None}, "manifests", "at least 1 item"),
        (J.PROMOTE, {"digest": "latest"}, "digest", "not an image digest"),
        (J.TICKET, {"system": "github"}, "system", "'jira' or 'servicenow'"),
        (J.TICKET, {"action": "delete"}, "action", "'create'"),
        (J.TICKET, {"url": "acme.atlassian.net"}, "url", "not an http(s) URL"),
        (J.CANARY_ANALYSIS, {"passScore": 101}, "passScore", "less than or equal to 100"),
        (J.CANARY_ANALYSIS, {"metrics": []}, "metrics", "at least 1 item"),
        (J.CANARY_ANALYSIS, {"metrics": [{"name": "e"}]}, "metrics[0].query", "Field required"),
        (
            J.CANARY_ANALYSIS,
            {"metrics": [{"name": "e", "query": "q", "direction": "up"}]},
            "metrics[0].direction",
            "'increase'",
        ),
        (J.CANARY_ANALYSIS, {"provider": "nagios"}, "provider", "'prometheus'"),
        (J.CLONE_ENV, {"include": ["configmaps"]}, "include[0]", "not a Kubernetes kind"),
        (J.ANDROID_BUILD, {"output": "ipa"}, "output", "'apk' or 'aab'"),
        (J.ANDROID_DEPLOY, {"store": "appstore"}, "store", "'play'"),
        (J.ANDROID_DEPLOY, {"rollout": 2}, "rollout", "less than or equal to 1"),
        (J.DELAY, {"duration": 30}, "duration", "not a duration"),
        (J.DELAY, {"duration": "5 minutes"}, "duration", "not a duration"),
        (J.DELAY, {"duration": "-5m"}, "duration", "not a duration"),
        (J.DELAY, {"duration": "30000000000h"}, "duration", "too long a duration"),
        (J.DELAY, {"duration": "9" * 400 + "h"}, "duration", "too long a duration"),
        (J.DELAY, {"duration": "99999999h"}, "duration", "at most 87600h"),
        (J.BUILD, {"repository": "not a url"}, "repository", "not a git repository URL"),
        (J.BUILD, {"repository": "ftp://host/x"}, "repository", "not a git repository URL"),
        (J.ANDROID_BUILD, {"repository": "x"}, "repository", "not a git repository URL"),
    ],
)
def test_a_wrong_value_is_named(
    job_type: model.JobType, changes: Mapping[str, Any], field: str, message: str
) -> None:
    error = refused(job_type, given(job_type, changes))
    assert error.field == at(field)
    assert message in error.message


# (job type, changes, keys dropped, field, message): rules between fields.
RULES: list[tuple[model.JobType, Mapping[str, Any], tuple[str, ...], str, str]] = [
    (J.DEPLOY, {"manifests": ["k8s/"]}, (), "", "set exactly one of chart or manifests"),
    (J.DEPLOY, {}, ("chart",), "", "set exactly one of chart or manifests"),
    (J.DEPLOY, {}, ("release",), "release", "Field required with chart"),
    (
        J.DEPLOY,
        {"manifests": ["k8s/"], "values": {"a": 1}},
        ("chart", "release"),
        "values",
        "Field not used with manifests; remove it",
    ),
    (
        J.DEPLOY,
        {"manifests": ["k8s/"]},
        ("chart",),
        "release",
        "Field not used with manifests; remove it",
    ),
    (J.PROMOTE, {"manifests": ["k8s/"]}, (), "", "set exactly one of chart or manifests"),
    (
        J.DEPLOY,
        {"rollback": {}},
        (),
        "rollback",
        "set rollback alone, without chart or manifests",
    ),
    (J.DEPLOY, {"rollback": {}}, ("chart", "release"), "release", "Field required with rollback"),
    (
        J.PROMOTE,
        {"rollback": {}},
        ("chart",),
        "rollback",
        "Field not used for promote (a rollback is a deploy job); remove it",
    ),
    (
        J.PROMOTE,
        {"toEnvironment": "staging"},
        (),
        "toEnvironment",
        "must differ from fromEnvironment",
    ),
    (
        J.CUSTOM,
        {
            "env": [
                {
                    "name": "A",
                    "value": "1",
                    "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}},
                }
            ]
        },
        (),
        "env[0]",
        "set value or valueFrom, not both",
    ),
    (
        J.CUSTOM,
        {"env": [{"name": "A", "valueFrom": {}}]},
        (),
        "env[0].valueFrom",
        "set exactly one of secretKeyRef or configMapKeyRef",
    ),
    (J.TICKET, {}, ("project",), "project", "Field required for action create on jira"),
    (J.TICKET, {"action": "update"}, (), "key", "Field required for action update on jira"),
    (
        J.TICKET,
        {"action": "comment", "key": "OPS-1"},
        ("project", "summary"),
        "comment",
        "Field required for action comment on jira",
    ),
    (
        J.TICKET,
        {"action": "transition", "key": "OPS-1"},
        ("project", "summary"),
        "transition",
        "Field required for action transition on jira",
    ),
    (
        J.TICKET,
        {"action": "read", "key": "OPS-1"},
        ("project",),
        "summary",
        "Field not used for action read on jira; remove it",
    ),
    (J.TICKET, {"key": "OPS-1"}, (), "key", "Field not used for action create on jira; remove it"),
    (
        J.TICKET,
        {"system": "servicenow"},
        ("project",),
        "table",
        "Field required for action create on servicenow",
    ),
    (
        J.TICKET,
        {"system": "servicenow", "table": "incident"},
        (),
        "project",
        "Field not used for action create on servicenow; remove it",
    ),
    (J.CANARY_ANALYSIS, {"canary": "api-baseline"}, (), "canary", "must differ from baseline"),
    (J.CANARY_ANALYSIS, {"interval": "20m"}, (), "interval", "must not be longer than duration"),
    (J.CANARY_ANALYSIS, {"interval": "0s"}, (), "interval", "must be longer than 0s"),
    (
        J.CANARY_ANALYSIS,
        {"metrics": [{"name": "e", "query": "a"}, {"name": "e", "query": "b"}]},
        (),
        "metrics",
        "metric names must be unique: 'e' is repeated",
    ),
    (
        J.CANARY_ANALYSIS,
        {"metrics": [{"name": "{field}", "query": "a"}] * 2},
        (),
        "metrics",
        "metric names must be unique: '{field}' is repeated",
    ),
    (J.CLONE_ENV, {"target": "staging"}, (), "target", "must differ from source"),
    (J.ANDROID_DEPLOY, {}, ("track",), "track", "Field required for store play"),
    (
        J.ANDROID_DEPLOY,
        {"store": "firebase"},
        ("packageName", "track"),
        "appId",
        "Field required for store firebase",
    ),
    (
        J.ANDROID_DEPLOY,
        {"store": "firebase", "appId": "1:1:android:a"},
        (),
        "packageName",
        "Field not used for store firebase; remove it",
    ),
    (
        J.ANDROID_DEPLOY,
        {"store": "artifactory"},
        ("packageName", "track"),
        "destination",
        "Field required for store artifactory",
    ),
]


@pytest.mark.parametrize(("job_type", "changes", "drop", "field", "message"), RULES)
def test_a_broken_rule_between_fields_is_named(
    job_type: model.JobType,
    changes: Mapping[str, Any],
    drop: tuple[str, ...],
    field: str,
    message: str,
) -> None:
    error = refused(job_type, given(job_type, changes, *drop))
    assert (error.field, error.message) == (at(field), message)


def test_empty_params_are_read_as_an_empty_object() -> None:
    assert refused(J.DELAY, None) == model.SpecError(
        field="spec.params.duration", message="Field required"
    )


GARBAGE: list[Any] = [
    None,
    [],
    [{"repository": "x"}],
    "build",
    42,
    3.5,
    True,
    {"": None},
    {"{field}": "{"},
    {"repository": ["x"], "image": {"a": {"b": [None]}}},
    {"duration": {"seconds": 5}},
    {"metrics": [None, 1, "x"], "duration": []},
    {"env": [[]], "image": None},
    {"chart": "nginx", "manifests": {"a": 1}, "targetNamespace": 7},
    {"pushSecret": 5, "credentialsSecret": {"name": None}},
    {"action": ["create"], "system": {"jira": True}},
    {"output": None, "flavor": 3, "buildType": [], "repository": "r"},
    {"store": "play", "track": None, "rollout": "all"},
    {"metrics": [{"name": "{field}", "query": "q"}] * 2, "baseline": "a", "canary": "b"},
]


@pytest.mark.parametrize("job_type", list(J))
@pytest.mark.parametrize("raw", GARBAGE)
def test_garbage_is_refused_never_raised(job_type: model.JobType, raw: Any) -> None:
    error = refused(job_type, raw)
    assert error.field.startswith("spec.params")
    assert error.message


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/api.git",
        "http://git.internal/acme/api",
        "ssh://git@github.com/acme/api.git",
        "git://git.kernel.org/pub/scm/git/git.git",
        "git@github.com:acme/api.git",
    ],
)
def test_git_repository_urls(url: str) -> None:
    parsed = params.validate(job_type=J.BUILD, params={**MINIMAL[J.BUILD], "repository": url})
    assert not isinstance(parsed, model.SpecError), parsed


def test_deploy_target_namespace_may_be_left_out() -> None:
    given = {k: v for k, v in MINIMAL[J.DEPLOY].items() if k != "targetNamespace"}
    parsed = params.validate(job_type=J.DEPLOY, params=given)
    assert isinstance(parsed, params.DeployParams)
    assert parsed.target_namespace is None  # render fills in the job's namespace
