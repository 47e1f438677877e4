"""The `spec.params` of each job type: what a user gives, checked before any Job exists.

Pure: no I/O. `validate` never raises on a user's input: params the operator
cannot accept become a `model.SpecError` naming the field as the user wrote it
(`spec.params.buildArgs.FOO`, `spec.params.metrics[0].query`), which ends the
job FAILED/InvalidSpec.

Secrets are only ever named (`SecretRef`), never given inline: a `password` or
`token` param is an unknown field, refused with a hint to use a Secret.

Every model dumps for the Job templates with `model_dump(by_alias=True,
mode="json")`: camelCase keys as the user wrote them, durations as Go-style
text ("5m"), unset optional fields as null.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pydantic

from conveyor.core import model, paramtypes, pydantic_errors

# --- params per job type -----------------------------------------------------


class BuildParams(model._Spec):
    """Clone `repository` at `revision`, build `dockerfile` in `context`, push to `image`."""

    repository: paramtypes.GitUrl
    revision: paramtypes.Text = "main"
    image: paramtypes.Text
    context: paramtypes.Text = "."
    dockerfile: paramtypes.Text = "Dockerfile"
    build_args: dict[str, str] = pydantic.Field(default_factory=dict)
    target: paramtypes.Text | None = None
    cache: bool = False
    push_secret: paramtypes.SecretRef | None = None  # a kubernetes.io/dockerconfigjson Secret
    git_secret: paramtypes.SecretRef | None = None  # credentials for a private repository


class CustomParams(model._Spec):
    """Run a user-given image, like a container spec."""

    image: paramtypes.Text
    command: list[str] = pydantic.Field(default_factory=list)
    args: list[str] = pydantic.Field(default_factory=list)
    env: list[paramtypes.EnvVar] = pydantic.Field(default_factory=list)
    working_dir: paramtypes.Text | None = None


class Rollback(model._Spec):
    """An explicit `helm rollback` of `release`: to `revision`, or to the previous one."""

    revision: int | None = pydantic.Field(default=None, ge=1)


class DeployParams(model._Spec):
    """Helm upgrade --install of `chart`, or apply `manifests` (URLs or paths), then wait;
    or, with `rollback`, roll `release` back."""

    chart: paramtypes.Chart | None = None
    manifests: Annotated[list[paramtypes.Text], pydantic.Field(min_length=1)] | None = None
    release: paramtypes.ObjectName | None = None
    # Absent: the job's own namespace (render.attempt_manifest fills it in).
    target_namespace: paramtypes.NamespaceName | None = None
    values: dict[str, Any] = pydantic.Field(default_factory=dict)
    values_from: list[paramtypes.ValuesFrom] = pydantic.Field(default_factory=list)
    wait: bool = True
    timeout: paramtypes.Duration = datetime.timedelta(minutes=5)
    rollback_on_failure: bool = False  # a rollout that does not become ready is rolled back
    rollback: Rollback | None = None

    @pydantic.model_validator(mode="after")
    def _chart_or_manifests(self) -> DeployParams:
        if self.rollback is not None:
            if self.chart is not None or self.manifests is not None:
                raise paramtypes.rule("rollback", "set rollback alone, without chart or manifests")
            paramtypes.require(self, "release", when="with rollback")
            paramtypes.forbid(self, "values", "values_from", when="with rollback")
            return self
        if (self.chart is None) == (self.manifests is None):
            raise paramtypes.rule(None, "set exactly one of chart or manifests")
        if self.chart is not None:
            paramtypes.require(self, "release", when="with chart")
        else:
            paramtypes.forbid(self, "release", "values", "values_from", when="with manifests")
        return self


class PromoteParams(DeployParams):
    """Deploy `image`@`digest`, as tested in `fromEnvironment`, to `toEnvironment`."""

    image: paramtypes.Text  # repository without tag, e.g. registry.example.com/team/api
    digest: paramtypes.Digest
    from_environment: paramtypes.Text
    to_environment: paramtypes.Text

    @pydantic.model_validator(mode="after")
    def _two_environments(self) -> PromoteParams:
        paramtypes.forbid(self, "rollback", when="for promote (a rollback is a deploy job)")
        if self.from_environment == self.to_environment:
            raise paramtypes.rule("toEnvironment", "must differ from fromEnvironment")
        return self


TicketAction = Literal["create", "update", "comment", "transition", "read"]

# Per action: the fields it needs, and the further fields it may use.
# (project and table: by system, see TicketParams.)
_TICKET_FIELDS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    "create": (frozenset({"summary"}), frozenset({"description", "fields"})),
    "update": (frozenset({"key"}), frozenset({"summary", "description", "fields"})),
    "comment": (frozenset({"key", "comment"}), frozenset()),
    "transition": (frozenset({"key", "transition"}), frozenset({"comment", "fields"})),
    "read": (frozenset({"key"}), frozenset()),
}
_TICKET_ONLY = (
    "project",
    "table",
    "key",
    "summary",
    "description",
    "comment",
    "transition",
    "fields",
)


class TicketParams(model._Spec):
    """Create, update, comment on, transition or read a JIRA issue or ServiceNow record."""

    system: Literal["jira", "servicenow"]
    action: TicketAction
    url: paramtypes.HttpUrl  # the instance, e.g. https://example.atlassian.net
    credentials_secret: paramtypes.SecretRef
    project: paramtypes.Text | None = None  # jira: project key, to create
    table: paramtypes.Text | None = None  # servicenow: table, e.g. incident or change_request
    key: paramtypes.Text | None = None  # jira issue key or servicenow number / sys_id
    summary: paramtypes.Text | None = None
    description: str | None = None
    comment: paramtypes.Text | None = None
    transition: paramtypes.Text | None = None  # jira transition name or id; servicenow state
    fields: dict[str, Any] = pydantic.Field(default_factory=dict)
    api_version: Literal["2", "3"] = "2"  # jira: REST API 2 (plain text) or 3 (documents)

    @pydantic.model_validator(mode="after")
    def _fields_for_action(self) -> TicketParams:
        needed, optional = _TICKET_FIELDS[self.action]
        if self.system == "servicenow":
            needed |= {"table"}
        elif self.action == "create":
            needed |= {"project"}
        when = f"for action {self.action} on {self.system}"
        paramtypes.require(self, *(n for n in _TICKET_ONLY if n in needed), when=when)
        paramtypes.forbid(self, *(n for n in _TICKET_ONLY if n not in needed | optional), when=when)
        if self.system == "servicenow":
            paramtypes.forbid(self, "api_version", when="for servicenow")
        return self


Provider = Literal[
    "prometheus", "datadog", "newrelic", "cloudwatch", "stackdriver", "graphite", "influxdb"
]


class Metric(model._Spec):
    """A query run for baseline and canary; the canary fails it when it deviates more
    than `threshold` percent from the baseline in `direction`."""

    name: paramtypes.Text
    query: paramtypes.Text
    direction: Literal["increase", "decrease", "either"] = "either"
    threshold: float = pydantic.Field(default=10.0, ge=0)
    critical: bool = False  # failing it fails the analysis whatever the score


class CanaryAnalysisParams(model._Spec):
    """Compare `canary` with `baseline` every `interval` for `duration` (Kayenta-style)."""

    baseline: paramtypes.Text
    canary: paramtypes.Text
    metrics: Annotated[list[Metric], pydantic.Field(min_length=1)]
    provider: Provider = "prometheus"
    address: paramtypes.HttpUrl | None = None  # the metrics provider's endpoint
    credentials_secret: paramtypes.SecretRef | None = None
    interval: paramtypes.Duration = datetime.timedelta(minutes=1)
    duration: paramtypes.Duration
    pass_score: float = pydantic.Field(default=95.0, ge=0, le=100)

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> CanaryAnalysisParams:
        if self.canary == self.baseline:
            raise paramtypes.rule("canary", "must differ from baseline")
        if self.interval <= datetime.timedelta(0):
            raise paramtypes.rule("interval", "must be longer than 0s")
        if self.interval > self.duration:
            raise paramtypes.rule("interval", "must not be longer than duration")
        names = [m.name for m in self.metrics]
        for name in names:
            if names.count(name) > 1:
                message = f"metric names must be unique: {name!r} is repeated"
                raise paramtypes.rule("metrics", message)
        return self


class CloneEnvParams(model._Spec):
    """Copy the objects of `include` kinds (default: the worker's set) from `source` to `target`."""

    source: paramtypes.NamespaceName
    target: paramtypes.NamespaceName
    include: list[paramtypes.Kind] = pydantic.Field(default_factory=list)
    overrides: dict[str, Any] = pydantic.Field(default_factory=dict)
    overwrite: bool = False  # replace objects that already exist in target
    secrets: Literal["copy", "skip"] = "copy"  # skip: list them as secretsToProvide
    dry_run: bool = False  # report what would be copied, write nothing

    @pydantic.model_validator(mode="after")
    def _two_environments(self) -> CloneEnvParams:
        if self.source == self.target:
            raise paramtypes.rule("target", "must differ from source")
        return self


def _gradle_task(data: dict[str, Any]) -> str:
    """assembleRelease, bundleRelease, assembleFreeDebug, ...: what `output` needs."""
    verb = "bundle" if data.get("output") == "aab" else "assemble"
    flavor = data.get("flavor") or ""
    build_type = data.get("build_type") or "release"
    return verb + flavor[:1].upper() + flavor[1:] + build_type[:1].upper() + build_type[1:]


class AndroidBuildParams(model._Spec):
    """Gradle build of `module` into an APK or AAB; signed when `signingSecret` is set."""

    repository: paramtypes.GitUrl
    revision: paramtypes.Text = "main"
    module: paramtypes.Text = "app"
    flavor: paramtypes.Text | None = None
    build_type: paramtypes.Text = "release"
    output: Literal["apk", "aab"] = "apk"
    gradle_task: paramtypes.Text = pydantic.Field(default_factory=_gradle_task)
    signing_secret: paramtypes.SecretRef | None = None  # keystore and its passwords
    git_secret: paramtypes.SecretRef | None = None


# Per store: the fields it needs, and the further fields it may use.
_STORE_FIELDS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "play": (("package_name", "track"), ("rollout",)),
    "firebase": (("app_id",), ("groups",)),
    "artifactory": (("destination",), ()),
}
_STORE_ONLY = ("package_name", "track", "rollout", "app_id", "groups", "destination")


class AndroidDeployParams(model._Spec):
    """Upload `artifact` (URL or path of an APK/AAB) to Google Play, Firebase or Artifactory."""

    artifact: paramtypes.Text
    store: Literal["play", "firebase", "artifactory"]
    credentials_secret: paramtypes.SecretRef
    package_name: paramtypes.Text | None = None  # play: the applicationId
    # play: internal, alpha, beta, production or a custom track
    track: paramtypes.Text | None = None
    rollout: float | None = pydantic.Field(default=None, gt=0, le=1)  # play: user fraction
    app_id: paramtypes.Text | None = None  # firebase: 1:1234567890:android:abc123
    groups: list[paramtypes.Text] = pydantic.Field(default_factory=list)  # firebase: tester groups
    destination: paramtypes.HttpUrl | None = None  # artifactory: repository URL to upload into

    @pydantic.model_validator(mode="after")
    def _fields_for_store(self) -> AndroidDeployParams:
        needed, optional = _STORE_FIELDS[self.store]
        when = f"for store {self.store}"
        paramtypes.require(self, *needed, when=when)
        paramtypes.forbid(self, *(n for n in _STORE_ONLY if n not in needed + optional), when=when)
        return self


class DelayParams(model._Spec):
    """Wait `duration`; the operator does it, no pod."""

    duration: paramtypes.Duration


PARAMS: Mapping[model.JobType, type[pydantic.BaseModel]] = {
    model.JobType.BUILD: BuildParams,
    model.JobType.CUSTOM: CustomParams,
    model.JobType.DEPLOY: DeployParams,
    model.JobType.PROMOTE: PromoteParams,
    model.JobType.TICKET: TicketParams,
    model.JobType.CANARY_ANALYSIS: CanaryAnalysisParams,
    model.JobType.CLONE_ENV: CloneEnvParams,
    model.JobType.ANDROID_BUILD: AndroidBuildParams,
    model.JobType.ANDROID_DEPLOY: AndroidDeployParams,
    model.JobType.DELAY: DelayParams,
}


# --- validation --------------------------------------------------------------


def validate(
    *, job_type: model.JobType, params: Mapping[str, Any]
) -> pydantic.BaseModel | model.SpecError:
    """The params parsed for `job_type`, or the first problem with them. Never raises."""
    params_model = PARAMS.get(job_type)
    if params_model is None:
        return model.SpecError(field="spec.type", message=f"unknown job type {job_type!r}")
    if params is None:  # `params:` with nothing under it
        params = {}
    if not isinstance(params, Mapping):
        return model.SpecError(field="spec.params", message="Input should be an object")
    try:
        return params_model.model_validate(dict(params))
    except pydantic.ValidationError as exc:
        return _spec_error(exc, params_model=params_model)


def _spec_error(
    exc: pydantic.ValidationError, *, params_model: type[pydantic.BaseModel]
) -> model.SpecError:
    errors = [e for e in exc.errors() if e["type"] != "default_factory_not_called"]
    first = errors[0]
    loc = tuple(first["loc"])
    ctx = first.get("ctx") or {}
    message = pydantic_errors.message(first)
    if first["type"] == paramtypes.RULE:
        loc += (ctx["field"],) if ctx.get("field") else ()
    elif first["type"] == "extra_forbidden":
        message = _unknown_field(name=str(loc[-1]), top=len(loc) == 1, params_model=params_model)
    return model.SpecError(field=_path(loc), message=message)


def _unknown_field(*, name: str, top: bool, params_model: type[pydantic.BaseModel]) -> str:
    if _LOOKS_SECRET.search(name):
        return "unknown field; secret values are never given inline: name a Secret instead"
    if not top:
        return "unknown field"
    known = ", ".join(f.alias or n for n, f in params_model.model_fields.items())
    return f"unknown field; the params of this job type are: {known}"


_LOOKS_SECRET = re.compile(r"passw|token|secret|api_?key|credential|private_?key", re.IGNORECASE)


def _path(loc: tuple[int | str, ...]) -> str:
    """spec.params.metrics[0].query: list indexes in brackets, as Kubernetes writes them."""
    path = "spec.params"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
