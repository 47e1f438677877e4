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
import pydantic_core

from conveyor.core import durations, model

# --- field types -------------------------------------------------------------

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def _object_name(value: str) -> str:
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise ValueError(
            f"{value!r} is not a Kubernetes object name "
            "(lowercase letters, digits, '-' and '.', at most 253 characters)"
        )
    return value


def _namespace_name(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a namespace name (lowercase letters, digits and '-', at most 63)"
        )
    return value


def _kind(value: str) -> str:
    if not _KIND.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes kind such as ConfigMap or Deployment")
    return value


def _digest(value: str) -> str:
    if not _DIGEST.match(value):
        raise ValueError(f"{value!r} is not an image digest such as sha256:<64 hex digits>")
    return value


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def _duration_in_range(value: Any, handler: pydantic.ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except OverflowError:  # timedelta caps at 999999999 days
        raise ValueError(f"{value!r} is too long a duration") from None


Text = Annotated[str, pydantic.StringConstraints(min_length=1)]
ObjectName = Annotated[str, pydantic.AfterValidator(_object_name)]
NamespaceName = Annotated[str, pydantic.AfterValidator(_namespace_name)]
Kind = Annotated[str, pydantic.AfterValidator(_kind)]
Digest = Annotated[str, pydantic.AfterValidator(_digest)]
HttpUrl = Annotated[str, pydantic.AfterValidator(_http_url)]
# model.Duration, dumped as the Go-style text the Job's tools take ("5m", not "PT5M").
Duration = Annotated[
    model.Duration,
    pydantic.WrapValidator(_duration_in_range),
    pydantic.PlainSerializer(durations.format, return_type=str, when_used="json"),
]


# --- shared parts ------------------------------------------------------------


class SecretRef(model._Spec):
    """A Secret in the job's namespace, by name; `key` picks one entry of it.

    A plain string is accepted as the name: `pushSecret: regcred`.
    """

    name: ObjectName
    key: Text | None = None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _name_only(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data


class KeyRef(model._Spec):
    """One key of a ConfigMap or Secret (Kubernetes' *KeySelector)."""

    name: ObjectName
    key: Text


class EnvVarSource(model._Spec):
    secret_key_ref: KeyRef | None = None
    config_map_key_ref: KeyRef | None = None

    @pydantic.model_validator(mode="after")
    def _exactly_one(self) -> EnvVarSource:
        if (self.secret_key_ref is None) == (self.config_map_key_ref is None):
            raise _rule(None, "set exactly one of secretKeyRef or configMapKeyRef")
        return self


class EnvVar(model._Spec):
    """Like a container's env entry: a literal `value` or a `valueFrom` reference."""

    name: Text
    value: str | None = None
    value_from: EnvVarSource | None = None

    @pydantic.model_validator(mode="after")
    def _not_both(self) -> EnvVar:
        if self.value is not None and self.value_from is not None:
            raise _rule(None, "set value or valueFrom, not both")
        return self


class Chart(model._Spec):
    """A Helm chart: `name` in `repository` (https:// or oci://), or a chart reference alone."""

    name: Text
    repository: Text | None = None
    version: Text | None = None


class ValuesFrom(model._Spec):
    """Helm values kept in a ConfigMap or Secret (as in Flux's HelmRelease)."""

    kind: Literal["ConfigMap", "Secret"]
    name: ObjectName
    values_key: Text = "values.yaml"
    optional: bool = False


# --- params per job type -----------------------------------------------------


class BuildParams(model._Spec):
    """Clone `repository` at `revision`, build `dockerfile` in `context`, push to `image`."""

    repository: Text
    revision: Text = "main"
    image: Text
    context: Text = "."
    dockerfile: Text = "Dockerfile"
    build_args: dict[str, str] = pydantic.Field(default_factory=dict)
    target: Text | None = None
    cache: bool = False
    push_secret: SecretRef | None = None  # a kubernetes.io/dockerconfigjson Secret
    git_secret: SecretRef | None = None  # credentials for a private repository


class CustomParams(model._Spec):
    """Run a user-given image, like a container spec."""

    image: Text
    command: list[str] = pydantic.Field(default_factory=list)
    args: list[str] = pydantic.Field(default_factory=list)
    env: list[EnvVar] = pydantic.Field(default_factory=list)
    working_dir: Text | None = None


class Rollback(model._Spec):
    """An explicit `helm rollback` of `release`: to `revision`, or to the previous one."""

    revision: int | None = pydantic.Field(default=None, ge=1)


class DeployParams(model._Spec):
    """Helm upgrade --install of `chart`, or apply `manifests` (URLs or paths), then wait;
    or, with `rollback`, roll `release` back."""

    chart: Chart | None = None
    manifests: Annotated[list[Text], pydantic.Field(min_length=1)] | None = None
    release: ObjectName | None = None
    target_namespace: NamespaceName
    values: dict[str, Any] = pydantic.Field(default_factory=dict)
    values_from: list[ValuesFrom] = pydantic.Field(default_factory=list)
    wait: bool = True
    timeout: Duration = datetime.timedelta(minutes=5)
    rollback_on_failure: bool = False  # a rollout that does not become ready is rolled back
    rollback: Rollback | None = None

    @pydantic.model_validator(mode="after")
    def _chart_or_manifests(self) -> DeployParams:
        if self.rollback is not None:
            if self.chart is not None or self.manifests is not None:
                raise _rule("rollback", "set rollback alone, without chart or manifests")
            _require(self, "release", when="with rollback")
            _forbid(self, "values", "values_from", when="with rollback")
            return self
        if (self.chart is None) == (self.manifests is None):
            raise _rule(None, "set exactly one of chart or manifests")
        if self.chart is not None:
            _require(self, "release", when="with chart")
        else:
            _forbid(self, "release", "values", "values_from", when="with manifests")
        return self


class PromoteParams(DeployParams):
    """Deploy `image`@`digest`, as tested in `fromEnvironment`, to `toEnvironment`."""

    image: Text  # repository without tag, e.g. registry.example.com/team/api
    digest: Digest
    from_environment: Text
    to_environment: Text

    @pydantic.model_validator(mode="after")
    def _two_environments(self) -> PromoteParams:
        _forbid(self, "rollback", when="for promote (a rollback is a deploy job)")
        if self.from_environment == self.to_environment:
            raise _rule("toEnvironment", "must differ from fromEnvironment")
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
    url: HttpUrl  # the instance, e.g. https://example.atlassian.net
    credentials_secret: SecretRef
    project: Text | None = None  # jira: project key, to create
    table: Text | None = None  # servicenow: table, e.g. incident or change_request
    key: Text | None = None  # jira issue key or servicenow number / sys_id
    summary: Text | None = None
    description: str | None = None
    comment: Text | None = None
    transition: Text | None = None  # jira transition name or id; servicenow state
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
        _require(self, *(n for n in _TICKET_ONLY if n in needed), when=when)
        _forbid(self, *(n for n in _TICKET_ONLY if n not in needed | optional), when=when)
        if self.system == "servicenow":
            _forbid(self, "api_version", when="for servicenow")
        return self


Provider = Literal[
    "prometheus", "datadog", "newrelic", "cloudwatch", "stackdriver", "graphite", "influxdb"
]


class Metric(model._Spec):
    """A query run for baseline and canary; the canary fails it when it deviates more
    than `threshold` percent from the baseline in `direction`."""

    name: Text
    query: Text
    direction: Literal["increase", "decrease", "either"] = "either"
    threshold: float = pydantic.Field(default=10.0, ge=0)
    critical: bool = False  # failing it fails the analysis whatever the score


class CanaryAnalysisParams(model._Spec):
    """Compare `canary` with `baseline` every `interval` for `duration` (Kayenta-style)."""

    baseline: Text
    canary: Text
    metrics: Annotated[list[Metric], pydantic.Field(min_length=1)]
    provider: Provider = "prometheus"
    address: HttpUrl | None = None  # the metrics provider's endpoint
    credentials_secret: SecretRef | None = None
    interval: Duration = datetime.timedelta(minutes=1)
    duration: Duration
    pass_score: float = pydantic.Field(default=95.0, ge=0, le=100)

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> CanaryAnalysisParams:
        if self.canary == self.baseline:
            raise _rule("canary", "must differ from baseline")
        if self.interval <= datetime.timedelta(0):
            raise _rule("interval", "must be longer than 0s")
        if self.interval > self.duration:
            raise _rule("interval", "must not be longer than duration")
        names = [m.name for m in self.metrics]
        for name in names:
            if names.count(name) > 1:
                raise _rule("metrics", f"metric names must be unique: {name!r} is repeated")
        return self


class CloneEnvParams(model._Spec):
    """Copy the objects of `include` kinds (default: the worker's set) from `source` to `target`."""

    source: NamespaceName
    target: NamespaceName
    include: list[Kind] = pydantic.Field(default_factory=list)
    overrides: dict[str, Any] = pydantic.Field(default_factory=dict)
    overwrite: bool = False  # replace objects that already exist in target
    secrets: Literal["copy", "skip"] = "copy"  # skip: list them as secretsToProvide
    dry_run: bool = False  # report what would be copied, write nothing

    @pydantic.model_validator(mode="after")
    def _two_environments(self) -> CloneEnvParams:
        if self.source == self.target:
            raise _rule("target", "must differ from source")
        return self


def _gradle_task(data: dict[str, Any]) -> str:
    """assembleRelease, bundleRelease, assembleFreeDebug, ...: what `output` needs."""
    verb = "bundle" if data.get("output") == "aab" else "assemble"
    flavor = data.get("flavor") or ""
    build_type = data.get("build_type") or "release"
    return verb + flavor[:1].upper() + flavor[1:] + build_type[:1].upper() + build_type[1:]


class AndroidBuildParams(model._Spec):
    """Gradle build of `module` into an APK or AAB; signed when `signingSecret` is set."""

    repository: Text
    revision: Text = "main"
    module: Text = "app"
    flavor: Text | None = None
    build_type: Text = "release"
    output: Literal["apk", "aab"] = "apk"
    gradle_task: Text = pydantic.Field(default_factory=_gradle_task)
    signing_secret: SecretRef | None = None  # keystore and its passwords
    git_secret: SecretRef | None = None


# Per store: the fields it needs, and the further fields it may use.
_STORE_FIELDS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "play": (("package_name", "track"), ("rollout",)),
    "firebase": (("app_id",), ("groups",)),
    "artifactory": (("destination",), ()),
}
_STORE_ONLY = ("package_name", "track", "rollout", "app_id", "groups", "destination")


class AndroidDeployParams(model._Spec):
    """Upload `artifact` (URL or path of an APK/AAB) to Google Play, Firebase or Artifactory."""

    artifact: Text
    store: Literal["play", "firebase", "artifactory"]
    credentials_secret: SecretRef
    package_name: Text | None = None  # play: the applicationId
    track: Text | None = None  # play: internal, alpha, beta, production or a custom track
    rollout: float | None = pydantic.Field(default=None, gt=0, le=1)  # play: user fraction
    app_id: Text | None = None  # firebase: 1:1234567890:android:abc123
    groups: list[Text] = pydantic.Field(default_factory=list)  # firebase: tester groups
    destination: HttpUrl | None = None  # artifactory: repository URL to upload into

    @pydantic.model_validator(mode="after")
    def _fields_for_store(self) -> AndroidDeployParams:
        needed, optional = _STORE_FIELDS[self.store]
        when = f"for store {self.store}"
        _require(self, *needed, when=when)
        _forbid(self, *(n for n in _STORE_ONLY if n not in needed + optional), when=when)
        return self


class DelayParams(model._Spec):
    """Wait `duration`; the operator does it, no pod."""

    duration: Duration


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
    message = first["msg"]
    if first["type"] == "value_error":
        message = str(ctx["error"])  # without pydantic's "Value error, " prefix
    elif first["type"] == _RULE:
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


# A cross-field rule broken; ctx["field"] (a camelCase name) extends the error's location.
_RULE = "params_rule"


def _rule(field: str | None, message: str) -> pydantic_core.PydanticCustomError:
    # The message goes in as context: a user's "{...}" in it is not a placeholder.
    return pydantic_core.PydanticCustomError(
        _RULE, "{message}", {"field": field or "", "message": message}
    )


def _alias(obj: pydantic.BaseModel, name: str) -> str:
    return type(obj).model_fields[name].alias or name


def _require(obj: pydantic.BaseModel, *names: str, when: str) -> None:
    for name in names:
        if getattr(obj, name) is None:
            raise _rule(_alias(obj, name), f"Field required {when}")


def _forbid(obj: pydantic.BaseModel, *names: str, when: str) -> None:
    for name in names:
        default = type(obj).model_fields[name].get_default(call_default_factory=True)
        if getattr(obj, name) != default:
            raise _rule(_alias(obj, name), f"Field not used {when}; remove it")
