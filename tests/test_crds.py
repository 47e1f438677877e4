"""The CRDs in crds/: names, printer columns, and schemas that agree with the model.

Pure: reads the YAML files, no cluster. What the API server does with them at
apply time (CEL, defaulting, pruning) is tested against a real one elsewhere.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import enum
import functools
import pathlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pydantic
import pytest
import yaml
from pydantic import alias_generators

from conveyor.core import bounds, cron, durations, model, podpolicy

CRDS = pathlib.Path(__file__).resolve().parent.parent / "crds"
GROUP = "conveyor.dev"
VERSION = "v1alpha1"
ALL_FILES = sorted(p.name for p in CRDS.glob("*.yaml"))

Schema = Mapping[str, Any]


@functools.cache
def load(file: str) -> dict[str, Any]:
    docs = list(yaml.safe_load_all((CRDS / file).read_text()))
    assert len(docs) == 1, f"{file}: one CustomResourceDefinition per file"
    crd: dict[str, Any] = docs[0]
    return crd


def crd_of(plural: str) -> dict[str, Any]:
    return load(f"{plural}.{GROUP}.yaml")


def version_of(plural: str) -> dict[str, Any]:
    version: dict[str, Any]
    (version,) = crd_of(plural)["spec"]["versions"]
    return version


def schema_of(plural: str) -> Schema:
    schema: Schema = version_of(plural)["schema"]["openAPIV3Schema"]
    return schema


def at(schema: Schema, path: str) -> Schema:
    """The node at a dotted path; `name[]` steps into an array's items."""
    node = schema
    for part in path.split("."):
        name = part.removesuffix("[]")
        node = node["properties"][name]
        if part.endswith("[]"):
            node = node["items"]
    return node


def walk(node: Schema, path: str = "") -> Iterator[tuple[str, Schema]]:
    """Every schema node with its path: `a.b`, `a[]` for items, `a{}` for map values."""
    yield path, node
    for name, child in (node.get("properties") or {}).items():
        yield from walk(child, f"{path}.{name}" if path else name)
    if isinstance(node.get("items"), Mapping):
        yield from walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), Mapping):
        yield from walk(node["additionalProperties"], f"{path}{{}}")


def camel(name: str) -> str:
    return alias_generators.to_camel(name)


def aliases(cls: type[pydantic.BaseModel]) -> set[str]:
    return {field.alias or name for name, field in cls.model_fields.items()}


# --- identity -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("plural", "kind", "singular", "short_names"),
    [
        ("pipelinejobs", "PipelineJob", "pipelinejob", ["pj"]),
        ("workers", "Worker", "worker", ["wk"]),
    ],
)
def test_names(plural: str, kind: str, singular: str, short_names: list[str]) -> None:
    crd = crd_of(plural)
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == f"{plural}.{GROUP}"
    assert crd["spec"]["group"] == GROUP
    assert crd["spec"]["scope"] == "Namespaced"
    assert crd["spec"]["names"] == {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": singular,
        "shortNames": short_names,
        "categories": ["conveyor"],
    }


@pytest.mark.parametrize("plural", ["pipelinejobs", "workers"])
def test_one_version_served_and_stored_with_status_subresource(plural: str) -> None:
    version = version_of(plural)
    assert version["name"] == VERSION
    assert version["served"] is True
    assert version["storage"] is True
    assert version["subresources"] == {"status": {}}


# --- printer columns ----------------------------------------------------------

AGE = ("Age", "date", ".metadata.creationTimestamp")


@pytest.mark.parametrize(
    ("plural", "columns"),
    [
        (
            "pipelinejobs",
            [
                ("State", "string", ".status.state"),
                ("Type", "string", ".spec.type"),
                ("Worker", "string", ".status.worker"),
                ("Attempt", "integer", ".status.attempt"),
                ("Reason", "string", ".status.reason"),
                AGE,
            ],
        ),
        (
            "workers",
            [
                ("State", "string", ".status.state"),
                ("Type", "string", ".spec.type"),
                ("Running", "integer", ".status.running"),
                ("Queued", "integer", ".status.queued"),
                ("Concurrency", "integer", ".spec.concurrency"),
                AGE,
            ],
        ),
    ],
)
def test_printer_columns(plural: str, columns: list[tuple[str, str, str]]) -> None:
    declared = version_of(plural)["additionalPrinterColumns"]
    default_view = [
        (c["name"], c["type"], c["jsonPath"]) for c in declared if not c.get("priority")
    ]
    assert default_view == columns  # further columns only in `-o wide`


@pytest.mark.parametrize("plural", ["pipelinejobs", "workers"])
def test_printer_columns_point_at_declared_fields_of_their_type(plural: str) -> None:
    schema = schema_of(plural)
    for column in version_of(plural)["additionalPrinterColumns"]:
        if column["jsonPath"] == ".metadata.creationTimestamp":
            continue
        node = at(schema, column["jsonPath"].removeprefix("."))
        assert node["type"] == column["type"], column["name"]


# --- status: nothing the operator writes may be pruned -----------------------


def test_pipelinejob_status_declares_every_model_field() -> None:
    status = at(schema_of("pipelinejobs"), "status")["properties"]
    written = {camel(f.name) for f in dataclasses.fields(model.JobStatus)}
    assert written - status.keys() == set()
    assert "conditions" in status


def test_pipelinejob_attempt_declares_every_model_field() -> None:
    attempt = at(schema_of("pipelinejobs"), "status.attempts[]")["properties"]
    written = {camel(f.name) for f in dataclasses.fields(model.Attempt)}
    assert written - attempt.keys() == set()
    # ...and what Attempt.to_dict writes, byte for byte.
    sample = model.Attempt(
        attempt=1,
        job="j-1",
        start="2026-01-02T15:04:05Z",
        finish="2026-01-02T15:04:06Z",
        result="FAILED",
        reason="PodFailed",
        exit_code=1,
        message="m",
    )
    assert sample.to_dict().keys() - attempt.keys() == set()


def test_worker_status_declares_the_design_fields() -> None:
    status = at(schema_of("workers"), "status")["properties"]
    design = {"state", "reason", "message", "running", "queued", "lastHeartbeat", "conditions"}
    assert design | {"observedGeneration"} <= status.keys()


@pytest.mark.parametrize("plural", ["pipelinejobs", "workers"])
def test_conditions_are_a_map_keyed_by_type(plural: str) -> None:
    conditions = at(schema_of(plural), "status.conditions")
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    item = conditions["items"]
    assert set(item["properties"]) == {
        "type",
        "status",
        "reason",
        "message",
        "lastTransitionTime",
        "observedGeneration",
    }
    assert item["properties"]["status"]["enum"] == ["True", "False", "Unknown"]
    assert item["properties"]["lastTransitionTime"]["format"] == "date-time"


@pytest.mark.parametrize(
    ("plural", "path"),
    [
        ("pipelinejobs", "status.queuedAt"),
        ("pipelinejobs", "status.startedAt"),
        ("pipelinejobs", "status.finishedAt"),
        ("pipelinejobs", "status.nextAttemptAt"),
        ("pipelinejobs", "status.attempts[].start"),
        ("pipelinejobs", "status.attempts[].finish"),
        ("pipelinejobs", "spec.startAt"),
        ("workers", "status.lastHeartbeat"),
    ],
)
def test_times_are_date_time_strings(plural: str, path: str) -> None:
    node = at(schema_of(plural), path)
    assert (node["type"], node["format"]) == ("string", "date-time")


# --- spec: the schema and the model agree ------------------------------------


@pytest.mark.parametrize(
    ("plural", "path", "cls"),
    [
        ("pipelinejobs", "spec", model.PipelineJobSpec),
        ("pipelinejobs", "spec.retry", model.Retry),
        ("pipelinejobs", "spec.retry.backoff", model.Backoff),
        ("workers", "spec", model.WorkerSpec),
    ],
)
def test_spec_fields_are_the_models(plural: str, path: str, cls: type[pydantic.BaseModel]) -> None:
    # Equal, not a subset: the model forbids extra fields, so a field only the
    # schema knows would pass apply and then fail as InvalidSpec.
    assert set(at(schema_of(plural), path)["properties"]) == aliases(cls)


@pytest.mark.parametrize("plural", ["pipelinejobs", "workers"])
def test_spec_and_type_are_required(plural: str) -> None:
    schema = schema_of(plural)
    assert schema["required"] == ["spec"]
    assert at(schema, "spec")["required"] == ["type"]


def apply_defaults(value: Any, schema: Schema) -> Any:
    """What the API server's structural defaulting does to a value."""
    if isinstance(value, dict):
        out = dict(value)
        for name, prop in (schema.get("properties") or {}).items():
            if name not in out and "default" in prop:
                out[name] = copy.deepcopy(prop["default"])
            if name in out:
                out[name] = apply_defaults(out[name], prop)
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [apply_defaults(v, schema["items"]) for v in value]
    return value


@pytest.mark.parametrize(
    ("plural", "cls", "defaulted"),
    [
        (
            "pipelinejobs",
            model.PipelineJobSpec,
            {
                "type": "build",
                "priority": 0,
                "retry": {"limit": 0, "backoff": {"delay": "5s", "factor": 2, "maxDelay": "5m"}},
                "revoke": False,
            },
        ),
        (
            "workers",
            model.WorkerSpec,
            {"type": "build", "concurrency": 1, "paused": False},
        ),
    ],
)
def test_schema_defaults_are_the_models(
    plural: str, cls: type[pydantic.BaseModel], defaulted: dict[str, Any]
) -> None:
    spec = apply_defaults({"type": "build"}, at(schema_of(plural), "spec"))
    assert spec == defaulted
    # The stored spec, defaults filled in, means what the bare spec means.
    assert cls.model_validate(spec) == cls.model_validate({"type": "build"})


DURATIONS = [
    ("pipelinejobs", "spec.timeout"),
    ("pipelinejobs", "spec.ttlAfterFinished"),
    ("pipelinejobs", "spec.retry.backoff.delay"),
    ("pipelinejobs", "spec.retry.backoff.maxDelay"),
]


@pytest.mark.parametrize(("plural", "path"), DURATIONS)
def test_durations_use_the_parsers_pattern(plural: str, path: str) -> None:
    node = at(schema_of(plural), path)
    assert node["type"] == "string"
    assert node["pattern"] == durations.PATTERN
    assert node["maxLength"] <= 64  # bounds the cost of CEL rules over it
    assert "duration such as" in node["description"]
    if "default" in node:
        durations.parse(node["default"])


@pytest.mark.parametrize("file", ALL_FILES)
def test_every_duration_pattern_is_the_parsers(file: str) -> None:
    """No stray copy of the duration regex drifts from durations.PATTERN."""
    for version in load(file)["spec"]["versions"]:
        for path, node in walk(version["schema"]["openAPIV3Schema"]):
            if "ms|s|m|h" in node.get("pattern", ""):
                assert node["pattern"] == durations.PATTERN, path
            for rule in node.get("x-kubernetes-validations", ()):
                if "ms|s|m|h" in rule["rule"]:
                    copies = rule["rule"].count("ms|s|m|h")
                    assert rule["rule"].count(f"r'{durations.PATTERN}'") == copies, path


@pytest.mark.parametrize(
    ("plural", "path", "values"),
    [
        ("pipelinejobs", "spec.type", model.JobType),
        ("pipelinejobs", "status.state", model.State),
        ("workers", "spec.type", model.WorkerType),
        ("workers", "status.state", model.WorkerState),
    ],
)
def test_enums_are_the_models(plural: str, path: str, values: type[enum.StrEnum]) -> None:
    assert at(schema_of(plural), path)["enum"] == [v.value for v in values]


@pytest.mark.parametrize(
    ("plural", "path", "bounds"),
    [
        ("pipelinejobs", "spec.priority", (-(2**31), 2**31 - 1)),
        ("pipelinejobs", "spec.retry.limit", (0, 100)),
        ("workers", "spec.concurrency", (0, 2**31 - 1)),
    ],
)
def test_integer_bounds(plural: str, path: str, bounds: tuple[int, int]) -> None:
    node = at(schema_of(plural), path)
    assert node["type"] == "integer"
    assert (node["minimum"], node["maximum"]) == bounds


def test_backoff_factor_is_at_least_one() -> None:
    factor = at(schema_of("pipelinejobs"), "spec.retry.backoff.factor")
    assert (factor["type"], factor["minimum"]) == ("number", 1)


@pytest.mark.parametrize(
    ("plural", "path"),
    [
        ("pipelinejobs", "spec.params"),
        ("pipelinejobs", "spec.podTemplate"),
        ("pipelinejobs", "status.outputs"),
        ("workers", "spec.template"),
    ],
)
def test_free_form_objects_keep_unknown_fields(plural: str, path: str) -> None:
    node = at(schema_of(plural), path)
    assert node["type"] == "object"
    assert node["x-kubernetes-preserve-unknown-fields"] is True


@pytest.mark.parametrize(
    ("plural", "path", "message"),
    [
        ("pipelinejobs", "", "metadata.name must be at most 59 characters"),
        ("pipelinejobs", "spec", "spec.revoke cannot be unset once true"),
        ("pipelinejobs", "spec.type", "spec.type is immutable"),
        ("pipelinejobs", "spec.timeout", "spec.timeout must be greater than 0"),
        ("pipelinejobs", "spec.retry.backoff", "must not be less than spec.retry.backoff.delay"),
    ],
)
def test_cel_rules(plural: str, path: str, message: str) -> None:
    node = at(schema_of(plural), path) if path else schema_of(plural)
    texts = [r.get("message") or r["messageExpression"] for r in node["x-kubernetes-validations"]]
    assert any(message in " ".join(text.split()) for text in texts), texts


def test_job_names_fit_the_longest_name_and_attempt() -> None:
    # <name>-<attempt> must fit a Job name (63): 59 + len("-101").
    (rule,) = schema_of("pipelinejobs")["x-kubernetes-validations"]
    limit = int(rule["rule"].rsplit("<=", 1)[1])
    most_attempts = at(schema_of("pipelinejobs"), "spec.retry.limit")["maximum"] + 1
    assert limit + len(f"-{most_attempts}") == 63


# --- every CRD file: structural, explained, rules that name their field ------

# Not allowed in a structural schema (or pointless in one).
FORBIDDEN = {"$ref", "definitions", "dependencies", "patternProperties", "additionalItems", "id"}


def structural_problems(schema: Schema) -> list[str]:
    problems = []
    for path, node in walk(schema):
        where = path or "<root>"
        free = node.get("x-kubernetes-preserve-unknown-fields") is True
        if "type" not in node and not free and not node.get("x-kubernetes-int-or-string"):
            problems.append(f"{where}: no type")
        if node.get("type") == "array" and not isinstance(node.get("items"), Mapping):
            problems.append(f"{where}: array without items")
        if node.get("type") == "object" and path != "metadata":
            if not (node.get("properties") or node.get("additionalProperties") or free):
                problems.append(f"{where}: object whose every field would be pruned")
            if node.get("properties") and node.get("additionalProperties"):
                problems.append(f"{where}: both properties and additionalProperties")
        if path == "metadata" and set(node) - {"type"}:
            problems.append("metadata: only `type: object` is allowed at the root")
        problems += [f"{where}: {key} is not structural" for key in FORBIDDEN & node.keys()]
        if node.get("x-kubernetes-list-type") == "map":
            required = set(node["items"].get("required", ()))
            missing = set(node["x-kubernetes-list-map-keys"]) - required
            problems += [f"{where}: map key {key} is not required" for key in sorted(missing)]
        for name in node.get("required", ()):
            if name not in (node.get("properties") or {}):
                problems.append(f"{where}: required {name} is not declared")
    return problems


def test_structural_checker_finds_problems() -> None:
    bad = {
        "type": "object",
        "properties": {
            "a": {"description": "untyped"},
            "b": {"type": "array"},
            "c": {"type": "object"},
            "d": {
                "type": "array",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["k"],
                "items": {"type": "object", "properties": {"k": {"type": "string"}}},
            },
        },
        "required": ["e"],
    }
    assert sorted(structural_problems(bad)) == [
        "<root>: required e is not declared",
        "a: no type",
        "b: array without items",
        "c: object whose every field would be pruned",
        "d: map key k is not required",
    ]


@pytest.mark.parametrize("file", ALL_FILES)
def test_schema_is_structural(file: str) -> None:
    for version in load(file)["spec"]["versions"]:
        assert structural_problems(version["schema"]["openAPIV3Schema"]) == []


@pytest.mark.parametrize("file", ALL_FILES)
def test_every_field_is_described_for_kubectl_explain(file: str) -> None:
    for version in load(file)["spec"]["versions"]:
        undescribed = [
            path
            for path, node in walk(version["schema"]["openAPIV3Schema"])
            if path.startswith(("spec", "status")) and not path.endswith(("[]", "{}"))
            if not node.get("description")
        ]
        assert undescribed == []


@pytest.mark.parametrize("file", ALL_FILES)
def test_every_rule_says_which_field_is_wrong(file: str) -> None:
    for version in load(file)["spec"]["versions"]:
        for path, node in walk(version["schema"]["openAPIV3Schema"]):
            for rule in node.get("x-kubernetes-validations", ()):
                text = rule.get("message") or rule.get("messageExpression") or ""
                field = path.replace("[]", "").replace("{}", "") or "metadata."
                assert field in text, (path, rule["rule"])


# --- PipelineCronJob ----------------------------------------------------------------

CRON = "pipelinecronjobs"


def test_pipelinecronjob_identity() -> None:
    test_names(CRON, "PipelineCronJob", "pipelinecronjob", ["pcj"])
    test_one_version_served_and_stored_with_status_subresource(CRON)
    test_conditions_are_a_map_keyed_by_type(CRON)


def test_pipelinecronjob_printer_columns() -> None:
    test_printer_columns(
        CRON,
        [
            ("Schedule", "string", ".spec.schedule"),
            ("TimeZone", "string", ".spec.timeZone"),
            ("Suspend", "boolean", ".spec.suspend"),
            ("Active", "integer", ".status.activeCount"),
            ("Last Schedule", "date", ".status.lastScheduleTime"),
            ("Last Result", "string", ".status.lastResult"),
            AGE,
        ],
    )


def test_pipelinecronjob_printer_columns_point_at_declared_fields_of_their_type() -> None:
    schema = schema_of(CRON)
    for column in version_of(CRON)["additionalPrinterColumns"]:
        if column["jsonPath"] == ".metadata.creationTimestamp":
            continue
        node = at(schema, column["jsonPath"].removeprefix("."))
        if column["type"] == "date":
            assert (node["type"], node["format"]) == ("string", "date-time"), column["name"]
        else:
            assert node["type"] == column["type"], column["name"]


def test_pipelinecronjob_status_declares_every_field_written() -> None:
    status = at(schema_of(CRON), "status")["properties"]
    fields = {camel(f.name) for f in dataclasses.fields(cron.CronStatus)}
    assert fields - status.keys() == set()
    sample = cron.CronStatus(
        last_schedule_time="2026-01-02T15:04:05Z",
        last_successful_time="2026-01-02T15:04:05Z",
        next_schedule_time="2026-01-02T15:04:05Z",
        active=("a",),
        last_result="SUCCESS",
        consecutive_failures=1,
        last_counted="2026-01-02T15:04:05Z",
        suspended=True,
        suspended_generation=2,
        reason="TooManyFailures",
        message="m",
    )
    written = sample.to_dict(generation=2, previous_conditions=(), now=model.EPOCH)
    assert written.keys() - status.keys() == set()
    design = {"lastScheduleTime", "lastSuccessfulTime", "nextScheduleTime", "active"}
    assert design | {"consecutiveFailures", "conditions", "suspended"} <= status.keys()


@pytest.mark.parametrize(
    "path",
    [
        "status.lastScheduleTime",
        "status.lastSuccessfulTime",
        "status.nextScheduleTime",
        "status.lastCounted",
    ],
)
def test_pipelinecronjob_times_are_date_time_strings(path: str) -> None:
    test_times_are_date_time_strings(CRON, path)


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("spec", aliases(cron.CronSpec)),
        ("spec.jobTemplate", {"metadata", "spec"}),
        ("spec.jobTemplate.metadata", {"labels", "annotations"}),
        ("spec.jobTemplate.spec", aliases(model.PipelineJobSpec)),
    ],
)
def test_pipelinecronjob_spec_fields_are_the_models(path: str, names: set[str]) -> None:
    assert set(at(schema_of(CRON), path)["properties"]) == names


def test_pipelinecronjob_required_fields() -> None:
    schema = schema_of(CRON)
    assert schema["required"] == ["spec"]
    # jobTemplate or pipelineRunTemplate: a CEL rule asks for exactly one.
    assert at(schema, "spec")["required"] == ["schedule"]
    assert at(schema, "spec.jobTemplate")["required"] == ["spec"]
    assert at(schema, "spec.jobTemplate.spec")["required"] == ["type"]


def test_pipelinecronjob_schema_defaults_are_the_models() -> None:
    bare = {"schedule": "* * * * *", "jobTemplate": {"spec": {"type": "build"}}}
    spec = apply_defaults(bare, at(schema_of(CRON), "spec"))
    assert spec.keys() - bare.keys() == {
        "concurrencyPolicy",
        "suspend",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
    }
    stored = cron.CronSpec.model_validate(spec)
    meant = cron.CronSpec.model_validate(bare)
    assert stored.model_dump(exclude={"job_template"}) == meant.model_dump(exclude={"job_template"})
    # The template's spec gets the PipelineJob defaults: each run means the same.
    assert model.PipelineJobSpec.model_validate(
        stored.job_template["spec"]
    ) == model.PipelineJobSpec.model_validate({"type": "build"})


@pytest.mark.parametrize(
    ("path", "values"),
    [
        ("spec.concurrencyPolicy", [p.value for p in cron.ConcurrencyPolicy]),
        ("status.lastResult", [s.value for s in model.State if s.finished]),
        ("spec.jobTemplate.spec.type", [t.value for t in model.JobType]),
    ],
)
def test_pipelinecronjob_enums_are_the_models(path: str, values: list[str]) -> None:
    assert at(schema_of(CRON), path)["enum"] == values


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("spec.startingDeadlineSeconds", "starting_deadline_seconds"),
        ("spec.successfulJobsHistoryLimit", "successful_jobs_history_limit"),
        ("spec.failedJobsHistoryLimit", "failed_jobs_history_limit"),
        ("spec.maxConsecutiveFailures", "max_consecutive_failures"),
    ],
)
def test_pipelinecronjob_integer_minimums_are_the_models(path: str, field: str) -> None:
    node = at(schema_of(CRON), path)
    (ge,) = [m.ge for m in cron.CronSpec.model_fields[field].metadata if hasattr(m, "ge")]
    assert (node["type"], node["minimum"]) == ("integer", ge)
    default = cron.CronSpec.model_fields[field].default
    assert node.get("default") == default


def test_pipelinecronjob_schedule_rule_is_the_models_pattern() -> None:
    node = at(schema_of(CRON), "spec.schedule")
    rule, ranges = node["x-kubernetes-validations"]
    assert rule["rule"] == f"self.matches(r'{cron.SCHEDULE_PATTERN}')"
    # Descending ranges (1-0) are refused as CronJob refuses them.
    assert "findAll(r'[0-9]+-[0-9]+')" in ranges["rule"]
    assert "'" not in cron.SCHEDULE_PATTERN  # fits the CEL raw string as is
    assert node["maxLength"] <= 256  # bounds the cost of the rule


def test_pipelinecronjob_time_zone_rule_evaluates_the_zone() -> None:
    node = at(schema_of(CRON), "spec.timeZone")
    (rule,) = node["x-kubernetes-validations"]
    # An unknown zone makes getHours fail to evaluate, and the object is refused.
    assert "getHours(self)" in rule["rule"]
    # Local and localtime (any case) would be the operator host's zone, not a named one.
    assert "self.lowerAscii() in ['local', 'localtime']" in " ".join(rule["rule"].split())


def test_pipelinecronjob_runs_fit_a_pipelinejob_name() -> None:
    (cron_rule,) = schema_of(CRON)["x-kubernetes-validations"]
    (job_rule,) = schema_of("pipelinejobs")["x-kubernetes-validations"]
    cron_limit = int(cron_rule["rule"].rsplit("<=", 1)[1])
    job_limit = int(job_rule["rule"].rsplit("<=", 1)[1])
    far = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
    assert len(cron.child_name(cron="x" * cron_limit, scheduled_at=far)) <= job_limit


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "metadata.name must be at most 50 characters"),
        ("spec", "spec.jobTemplate or spec.pipelineRunTemplate must be given, exactly one"),
        ("spec.schedule", "spec.schedule must be five fields"),
        ("spec.timeZone", "spec.timeZone must be an IANA time zone name"),
        ("spec.jobTemplate.spec.timeout", "spec.jobTemplate.spec.timeout must be greater than 0"),
        (
            "spec.jobTemplate.spec.retry.backoff",
            "must not be less than spec.jobTemplate.spec.retry.backoff.delay",
        ),
    ],
)
def test_pipelinecronjob_cel_rules(path: str, message: str) -> None:
    test_cel_rules(CRON, path, message)


# A field path's leading `spec.` (not the `.spec.` of spec.podTemplate.spec).
_UNDER_TEMPLATE = re.compile(r"(?<![\w.])spec\.")


def as_template(node: Any) -> Any:
    """A PipelineJob spec schema as jobTemplate.spec should be: no descriptions
    (they may speak of templates), no update rules (oldSelf: a template may change
    freely), and rule messages naming the field under spec.jobTemplate."""
    if isinstance(node, list):
        return [as_template(v) for v in node]
    if not isinstance(node, Mapping):
        return node
    out = {}
    for key, value in node.items():
        if key == "description":
            continue
        if key == "x-kubernetes-validations":
            rules = [
                {
                    k: _UNDER_TEMPLATE.sub("spec.jobTemplate.spec.", v)
                    if k in ("message", "messageExpression")
                    else v
                    for k, v in rule.items()
                }
                for rule in value
                if "oldSelf" not in rule["rule"]
            ]
            if rules:
                out[key] = rules
            continue
        out[key] = as_template(value)
    return out


def without_descriptions(node: Any) -> Any:
    if isinstance(node, list):
        return [without_descriptions(v) for v in node]
    if isinstance(node, Mapping):
        return {k: without_descriptions(v) for k, v in node.items() if k != "description"}
    return node


def test_pipelinecronjob_job_template_spec_is_the_pipelinejob_spec() -> None:
    """Kept in sync: a job spec the PipelineJob CRD refuses is refused in a template."""
    template = at(schema_of(CRON), "spec.jobTemplate.spec")
    job = at(schema_of("pipelinejobs"), "spec")
    assert without_descriptions(template) == as_template(job)


def test_the_template_comparison_would_notice_a_drift() -> None:
    job = copy.deepcopy(dict(at(schema_of("pipelinejobs"), "spec")))
    job["properties"]["retry"]["properties"]["limit"]["maximum"] = 5
    template = at(schema_of(CRON), "spec.jobTemplate.spec")
    assert without_descriptions(template) != as_template(job)


# --- bounds: what one object may hold (docs/security.md has the table) ---------------

WORKER_ONLY_POD_FIELDS = sorted(
    {
        "hostNetwork",
        "hostPID",
        "hostIPC",
        "hostUsers",
        "securityContext",
        "volumes",
        "serviceAccountName",
        "serviceAccount",
        "automountServiceAccountToken",
        "nodeName",
        "priorityClassName",
        "runtimeClassName",
        "initContainers",
    }
)
WORKER_ONLY_CONTAINER_FIELDS = ["args", "command", "image", "securityContext", "volumeMounts"]


@pytest.mark.parametrize(
    ("plural", "path", "key", "bound"),
    [
        ("pipelinejobs", "spec.params", "maxProperties", 64),
        ("pipelinejobs", "spec.podTemplate", "maxProperties", 2),
        ("pipelinejobs", "spec.podTemplate.metadata", "maxProperties", 2),
        ("pipelinejobs", "spec.podTemplate.metadata.labels", "maxProperties", 64),
        ("pipelinejobs", "spec.podTemplate.metadata.annotations", "maxProperties", 64),
        ("pipelinejobs", "spec.podTemplate.spec", "maxProperties", 8),
        ("pipelinejobs", "spec.podTemplate.spec.containers", "maxItems", 16),
        ("pipelinejobs", "spec.podTemplate.spec.containers[]", "maxProperties", 4),
        ("pipelinejobs", "spec.podTemplate.spec.containers[].name", "maxLength", 63),
        ("pipelinejobs", "spec.retry.backoff.factor", "maximum", 100),
        ("pipelinejobs", "spec.worker", "maxLength", 253),
        ("pipelinejobs", "spec.startAt", "maxLength", 64),
        ("workers", "spec.template", "maxProperties", 2),
        ("workers", "spec.template.metadata", "maxProperties", 2),
        ("workers", "spec.template.metadata.labels", "maxProperties", 64),
        ("workers", "spec.template.metadata.annotations", "maxProperties", 64),
        ("workers", "spec.template.spec", "maxProperties", 64),
        ("workers", "spec.jobTemplate", "maxLength", 65536),
        ("pipelinecronjobs", "spec.schedule", "maxLength", 256),
        ("pipelinecronjobs", "spec.timeZone", "maxLength", 64),
    ],
)
def test_bounds(plural: str, path: str, key: str, bound: int) -> None:
    assert at(schema_of(plural), path)[key] == bound


@pytest.mark.parametrize(
    ("plural", "path", "bound"),
    [
        ("pipelinejobs", "spec.podTemplate.metadata.labels", 63),
        ("pipelinejobs", "spec.podTemplate.metadata.annotations", 16384),
        ("workers", "spec.template.metadata.labels", 63),
        ("workers", "spec.template.metadata.annotations", 16384),
    ],
)
def test_label_and_annotation_values_are_bounded(plural: str, path: str, bound: int) -> None:
    assert at(schema_of(plural), path)["additionalProperties"]["maxLength"] == bound


def test_worker_names_fit_a_label_value() -> None:
    (rule,) = schema_of("workers")["x-kubernetes-validations"]
    assert rule["rule"] == "size(self.metadata.name) <= 63"


@pytest.mark.parametrize(
    "path",
    [f"spec.podTemplate.spec.{name}" for name in WORKER_ONLY_POD_FIELDS]
    + [f"spec.podTemplate.spec.containers[].{name}" for name in WORKER_ONLY_CONTAINER_FIELDS],
)
def test_fields_only_a_worker_sets_are_refused_at_apply(path: str) -> None:
    (rule,) = at(schema_of("pipelinejobs"), path)["x-kubernetes-validations"]
    assert rule["rule"] == "false"  # present at all: refused
    assert rule["reason"] == "FieldValueForbidden"
    assert "is set by the Worker only" in rule["message"]


def test_the_worker_only_fields_are_the_pod_policys() -> None:
    """The schema refuses what core/podpolicy.py refuses, at least the named ones."""
    spec = at(schema_of("pipelinejobs"), "spec.podTemplate.spec")
    declared = set(spec["properties"])
    assert declared - podpolicy.POD == set(WORKER_ONLY_POD_FIELDS)
    container = at(schema_of("pipelinejobs"), "spec.podTemplate.spec.containers[]")
    assert set(container["properties"]) - podpolicy.CONTAINER == set(WORKER_ONLY_CONTAINER_FIELDS)


DURATION_FIELDS = [
    "spec.timeout",
    "spec.ttlAfterFinished",
    "spec.retry.backoff.delay",
    "spec.retry.backoff.maxDelay",
]


@pytest.mark.parametrize("path", DURATION_FIELDS)
def test_durations_are_at_most_the_parsers_maximum(path: str) -> None:
    rules = at(schema_of("pipelinejobs"), path)["x-kubernetes-validations"]
    (rule,) = [r for r in rules if "87600h" in r["message"]]
    assert f"duration('{durations.format(durations.MAX)}')" in rule["rule"]
    assert f"{path} must be at most 87600h" in rule["message"]


def test_start_at_is_before_the_models_latest() -> None:
    (rule,) = at(schema_of("pipelinejobs"), "spec.startAt")["x-kubernetes-validations"]
    assert f"timestamp('{model.format_time(bounds.LATEST)}')" in rule["rule"]


# --- Pipeline and PipelineRun (generated by hack/gen_pipeline_crds.py) --------------


def test_pipeline_crds_are_what_the_generator_prints() -> None:
    import importlib.util

    path = CRDS.parent / "hack" / "gen_pipeline_crds.py"
    loaded = importlib.util.spec_from_file_location("gen_pipeline_crds", path)
    assert loaded is not None
    assert loaded.loader is not None
    gen = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(gen)
    for file, text in gen.rendered().items():
        assert file.read_text() == text, f"{file.name} is stale: run hack/gen_pipeline_crds.py"


def test_pipeline_identity() -> None:
    for plural, kind, short in (
        ("pipelines", "Pipeline", "pl"),
        ("pipelineruns", "PipelineRun", "pr"),
    ):
        test_names(plural, kind, kind.lower(), [short])
    test_one_version_served_and_stored_with_status_subresource("pipelineruns")
    test_conditions_are_a_map_keyed_by_type("pipelineruns")
    # A Pipeline is a definition: no status, so no status subresource.
    assert "subresources" not in version_of("pipelines")
    assert "status" not in schema_of("pipelines")["properties"]


def test_pipelinerun_printer_columns() -> None:
    test_printer_columns(
        "pipelineruns",
        [
            ("State", "string", ".status.state"),
            ("Steps", "string", ".status.progress"),
            ("Reason", "string", ".status.reason"),
            AGE,
        ],
    )


@pytest.mark.parametrize(
    ("plural", "phase"),
    [("pipelineruns", "steps"), ("pipelineruns", "finally"), ("pipelines", "steps")],
)
def test_a_step_job_is_the_pipelinejob_spec_without_defaults(plural: str, phase: str) -> None:
    def strip(node: Any) -> Any:
        if isinstance(node, list):
            return [strip(v) for v in node]
        if isinstance(node, Mapping):
            return {k: strip(v) for k, v in node.items() if k not in ("description", "default")}
        return node

    job = at(schema_of(plural), f"spec.{phase}[].job")
    expected = strip(as_template(at(schema_of("pipelinejobs"), "spec")))
    expected = json_replace(expected, "spec.jobTemplate.spec.", f"spec.{phase}.job.")
    assert strip(job) == expected


def json_replace(node: Any, old: str, new: str) -> Any:
    """`old` replaced where a field path starts (not inside spec.podTemplate.spec.x)."""
    import json

    pattern = re.compile(r"(?<![\w.])" + re.escape(old))
    return json.loads(pattern.sub(new, json.dumps(node)))


@pytest.mark.parametrize(
    ("plural", "path", "bound"),
    [
        ("pipelineruns", "spec.steps", 200),
        ("pipelineruns", "spec.finally", 20),
        ("pipelines", "spec.steps", 200),
        ("pipelineruns", "spec.steps[].dependsOn", 7),
    ],
)
def test_step_lists_are_bounded_and_keyed_by_name(plural: str, path: str, bound: int) -> None:
    node = at(schema_of(plural), path)
    assert node["maxItems"] == bound
    if not path.endswith("dependsOn"):
        # A list map keyed by name: the API server refuses a duplicate step name itself.
        assert (node["x-kubernetes-list-type"], node["x-kubernetes-list-map-keys"]) == (
            "map",
            ["name"],
        )
        assert (
            at(schema_of(plural), f"{path}[].name")["pattern"] == "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
        )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "metadata.name must be at most 63 characters"),
        ("spec", "exactly one of the two"),
        ("spec", "every dependsOn must name a step in spec.steps"),
        ("spec", "unique across spec.steps and spec.finally"),
        ("spec.steps[].job.timeout", "spec.steps.job.timeout must be greater than 0"),
    ],
)
def test_pipelinerun_cel_rules(path: str, message: str) -> None:
    test_cel_rules("pipelineruns", path.replace("[]", "[]"), message) if "[]" not in path else None
    if "[]" in path:
        node = at(schema_of("pipelineruns"), path)
        texts = [
            r.get("message") or r["messageExpression"] for r in node["x-kubernetes-validations"]
        ]
        assert any(message in " ".join(t.split()) for t in texts), texts


def test_pipelinecronjob_run_template_spec_is_the_pipelinerun_spec() -> None:
    template = at(schema_of(CRON), "spec.pipelineRunTemplate.spec")
    run_spec = json_replace(
        at(schema_of("pipelineruns"), "spec"), "spec.", "spec.pipelineRunTemplate.spec."
    )
    # Only rule messages mention fields; descriptions may say "spec." too.
    assert without_descriptions(template) == without_descriptions(run_spec)
