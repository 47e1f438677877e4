"""The field types and shared parts of `spec.params` (core/params.py), and
the helpers for its cross-field rules.

Pure: no I/O. A field's validator raises ValueError with a sentence about
the value; params.validate turns it into a SpecError naming the field.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import pydantic
import pydantic_core

from conveyor.core import durations, model

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


# A git remote: a URL (https, http, ssh, git) or scp-like `git@host:org/repo.git`.
_GIT_URL = re.compile(r"^((https?|ssh|git)://[^\s/@]+(@[^\s/]+)?(/\S*)?|[\w.-]+@[\w.-]+:\S+)$")


def _git_url(value: str) -> str:
    if len(value) > 2048 or not _GIT_URL.match(value):
        raise ValueError(
            "is not a git repository URL such as https://github.com/org/repo.git "
            "or git@github.com:org/repo.git"
        )
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
GitUrl = Annotated[str, pydantic.AfterValidator(_git_url)]
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
            raise rule(None, "set exactly one of secretKeyRef or configMapKeyRef")
        return self


class EnvVar(model._Spec):
    """Like a container's env entry: a literal `value` or a `valueFrom` reference."""

    name: Text
    value: str | None = None
    value_from: EnvVarSource | None = None

    @pydantic.model_validator(mode="after")
    def _not_both(self) -> EnvVar:
        if self.value is not None and self.value_from is not None:
            raise rule(None, "set value or valueFrom, not both")
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


# A cross-field rule broken; ctx["field"] (a camelCase name) extends the error's location.
RULE = "params_rule"


def rule(field: str | None, message: str) -> pydantic_core.PydanticCustomError:
    # The message goes in as context: a user's "{...}" in it is not a placeholder.
    return pydantic_core.PydanticCustomError(
        RULE, "{message}", {"field": field or "", "message": message}
    )


def alias(obj: pydantic.BaseModel, name: str) -> str:
    return type(obj).model_fields[name].alias or name


def require(obj: pydantic.BaseModel, *names: str, when: str) -> None:
    for name in names:
        if getattr(obj, name) is None:
            raise rule(alias(obj, name), f"Field required {when}")


def forbid(obj: pydantic.BaseModel, *names: str, when: str) -> None:
    for name in names:
        default = type(obj).model_fields[name].get_default(call_default_factory=True)
        if getattr(obj, name) != default:
            raise rule(alias(obj, name), f"Field not used {when}; remove it")
