"""Render the batch/v1 Job manifest for one attempt of a PipelineJob.

Pure apart from reading the Job templates packaged next to this module: no
API calls, no clock. The steps:

1. render the worker type's Jinja2 template (or the Worker's `jobTemplate`)
   in a sandbox with strict undefined, and parse the YAML it prints;
2. merge the Worker's pod template fragment into `spec.template`, then the
   PipelineJob's `podTemplate` over that (the job wins);
3. set the fields the operator owns again, so no template can break them.

Templates see `job` (name, namespace, type, params, priority), `attempt`,
`job_name`, `worker` (name, type) and `timeout_seconds`, and print values with
the `toyaml` filter (a quoted YAML flow value; user text can never become YAML
structure) or `tojson` (JSON text, e.g. for an env var holding JSON).
`refuse(field, message)` ends rendering with a RenderError for that field, for
params a template cannot serve. `{% import "_helpers.yaml.j2" as h with
context %}` gives the shared labels, metadata and security contexts.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import json
import math
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import jinja2
import jinja2.exceptions
import jinja2.runtime
import jinja2.sandbox
import yaml

from conveyor.core import merge, model

WORKER_TEMPLATE_FIELD = "Worker.spec.jobTemplate"
WORKER_POD_FIELD = "Worker.spec.template"
JOB_POD_FIELD = "spec.podTemplate"

# Label values, and so Job names (the Job controller labels pods with them), stop at 63.
_MAX_NAME = 63
# Bounds on what `*` and `**` may build, so a template cannot exhaust memory.
_MAX_SEQUENCE = 100_000
_MAX_POWER_BITS = 4096
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_-]+\.yaml\.j2$")
_MANAGED_BY = "app.kubernetes.io/managed-by"
# What Jinja calls a template compiled from text in its tracebacks.
_FROM_TEXT = "<template>"


class RenderError(Exception):
    """A Job manifest could not be rendered; `field` names what is at fault."""

    def __init__(self, *, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def render_job(
    *,
    job: model.PipelineJob,
    worker: model.Worker,
    attempt: int,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """The Job manifest for `attempt` (1-based) of `job` on `worker`.

    `params` are the job's params, already validated, with the keys as the user
    wrote them. Raises RenderError for anything a user or a Worker got wrong.
    """
    if attempt < 1:
        raise ValueError(f"attempt must be 1 or more, not {attempt}")
    spec = _job_spec(job)
    worker_spec = _worker_spec(worker)
    if model.WORKER_TYPE_OF[spec.type] != worker_spec.type:
        raise RenderError(
            field="spec.worker",
            message=f"Worker {worker.meta.name} has type {worker_spec.type.value}; "
            f"{spec.type.value} jobs need a Worker of type {model.WORKER_TYPE_OF[spec.type]}",
        )
    job_name = f"{job.meta.name}-{attempt}"
    if len(job_name) > _MAX_NAME:
        raise RenderError(
            field="metadata.name",
            message=f"the Job name {job_name!r} is longer than {_MAX_NAME} characters; "
            "use a shorter PipelineJob name",
        )
    timeout_seconds = (
        None if spec.timeout is None else max(1, math.ceil(spec.timeout.total_seconds()))
    )
    context = {
        "job": {
            "name": job.meta.name,
            "namespace": job.meta.namespace,
            "type": spec.type.value,
            "params": copy.deepcopy(dict(params)),
            "priority": spec.priority,
        },
        "attempt": attempt,
        "job_name": job_name,
        "worker": {"name": worker.meta.name, "type": worker_spec.type.value},
        "timeout_seconds": timeout_seconds,
    }

    if worker_spec.job_template is not None:
        manifest = _render(
            field=WORKER_TEMPLATE_FIELD,
            undefined_field=WORKER_TEMPLATE_FIELD,
            filename=_FROM_TEXT,
            load=lambda: _compile(worker_spec.job_template or ""),
            context=context,
        )
    else:
        name = f"{worker_spec.type.value}.yaml.j2"
        manifest = _render(
            field=f"templates/{name}",
            # Default templates only ever miss something the params should have had.
            undefined_field="spec.params",
            filename=name,
            load=lambda: _environment().get_template(name),
            context=context,
        )

    pod = manifest["spec"]["template"]
    fragments = ((WORKER_POD_FIELD, worker_spec.template), (JOB_POD_FIELD, spec.pod_template))
    for field, fragment in fragments:
        _check_fragment(field=field, fragment=fragment)
        pod = merge.merge(base=pod, overlay=fragment)
        _check_pod(field=field, pod=pod)
    manifest["spec"]["template"] = pod

    _own(
        manifest=manifest,
        job=job,
        worker=worker,
        attempt=attempt,
        job_name=job_name,
        timeout_seconds=timeout_seconds,
    )
    return manifest


def _job_spec(job: model.PipelineJob) -> model.PipelineJobSpec:
    if job.spec is None:
        error = job.spec_error or model.SpecError(field="spec", message="is missing")
        raise RenderError(field=error.field, message=error.message)
    if model.WORKER_TYPE_OF[job.spec.type] is None:
        raise RenderError(
            field="spec.type",
            message=f"{job.spec.type.value} jobs are run by the operator itself, not as a Job",
        )
    return job.spec


def _worker_spec(worker: model.Worker) -> model.WorkerSpec:
    if worker.spec is None:
        error = worker.spec_error or model.SpecError(field="spec", message="is missing")
        raise RenderError(field=f"Worker.{error.field}", message=error.message)
    return worker.spec


# -- step 1: the template ---------------------------------------------------------


def _render(
    *,
    field: str,
    undefined_field: str,
    filename: str,
    load: Callable[[], jinja2.Template],
    context: Mapping[str, Any],
) -> dict[str, Any]:
    try:
        text = load().render(context)
    except jinja2.TemplateSyntaxError as exc:
        where = _where(exc.name or filename, exc.lineno)
        raise RenderError(field=field, message=f"{where}: {exc.message}") from exc
    except _Refused as exc:
        raise RenderError(field=exc.field, message=exc.message) from exc
    except jinja2.TemplateNotFound as exc:
        message = f"no template named {exc.name!r}; only the packaged templates can be imported"
        raise RenderError(field=field, message=_located(exc, filename, message)) from exc
    except jinja2.UndefinedError as exc:
        raise RenderError(field=undefined_field, message=_located(exc, filename)) from exc
    except Exception as exc:
        # Template code is user code: whatever it raises (sandbox violations,
        # ZeroDivisionError, RecursionError, ...) is the template's fault, not ours.
        raise RenderError(field=field, message=_located(exc, filename)) from exc
    try:
        manifest = _load_yaml(text)
    except yaml.YAMLError as exc:
        raise RenderError(field=field, message=f"does not print valid YAML: {exc}") from exc
    if not isinstance(manifest, dict) or (manifest.get("apiVersion"), manifest.get("kind")) != (
        "batch/v1",
        "Job",
    ):
        raise RenderError(field=field, message="must print a batch/v1 Job")
    spec = manifest.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("template"), dict):
        raise RenderError(field=field, message="must print a Job with spec.template")
    _check_pod(field=field, pod=spec["template"])
    return manifest


def _located(exc: BaseException, filename: str, message: str | None = None) -> str:
    """The exception's message, prefixed with the template line it came from."""
    message = message or str(exc) or type(exc).__name__
    # Jinja rewrites tracebacks so that template frames carry the template's name.
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    return f"{_where(filename, lines[-1])}: {message}" if lines else message


def _where(filename: str, line: int | None) -> str:
    # A Worker's jobTemplate is the field itself; a packaged template is named.
    return f"line {line}" if filename == _FROM_TEXT else f"{filename} line {line}"


class _Refused(Exception):
    """Raised by `refuse(field, message)` in a template: the params cannot be served."""

    def __init__(self, *, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _refuse(field: str, message: str) -> NoReturn:
    raise _Refused(field=str(field), message=str(message))


def _load_yaml(text: str) -> Any:
    """Plain data only (a SafeLoader). An alias needs a `*`: without one,
    libyaml's loader is safe as well and ten times faster."""
    if "*" not in text and _C_LOADER is not None:
        return yaml.load(text, Loader=_C_LOADER)
    return yaml.load(text, Loader=_Loader)


_C_LOADER: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)


class _Loader(yaml.SafeLoader):
    """SafeLoader without aliases: a few bytes of anchors can expand to gigabytes."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not allowed")
        return super().compose_node(parent, index)


class _Environment(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """The sandbox, with `*` and `**` bounded: a template may be written by any Worker author."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > _MAX_SEQUENCE
                ):
                    raise jinja2.exceptions.SecurityError("the result of * is too long")
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and right * math.log2(abs(left)) > _MAX_POWER_BITS
        ):
            raise jinja2.exceptions.SecurityError("the result of ** is too large")
        return super().call_binop(context, operator, left, right)


def _load_packaged(name: str) -> tuple[str, str, Callable[[], bool]]:
    # Only plain names: includes and imports must not reach outside templates/.
    if not _TEMPLATE_NAME.match(name):
        raise jinja2.TemplateNotFound(name)
    path = importlib.resources.files("conveyor.core").joinpath("templates", name)
    if not path.is_file():
        raise jinja2.TemplateNotFound(name)
    # The name as filename puts it in tracebacks; packaged templates never change.
    return path.read_text(encoding="utf-8"), name, lambda: True


@functools.cache
def _environment() -> _Environment:
    """One environment: it caches the compiled default templates."""
    env = _Environment(
        loader=jinja2.FunctionLoader(_load_packaged),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        # Block tags on their own line leave no trace: YAML indentation stays as written.
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["toyaml"] = to_yaml
    env.filters["tojson"] = to_json
    env.globals["refuse"] = _refuse
    return env


def sandbox() -> jinja2.sandbox.ImmutableSandboxedEnvironment:
    """The one sandbox every user template runs in (Job templates and pipeline
    expressions alike), so its limits apply to both."""
    return _environment()


@functools.lru_cache(maxsize=64)
def _compile(text: str) -> jinja2.Template:
    """A Worker's jobTemplate, compiled once per distinct text."""
    return _environment().from_string(text)


# -- filters --------------------------------------------------------------------


def to_yaml(value: Any) -> str:
    """`value` as a one-line YAML flow value that parses back to exactly `value`.

    JSON is nearly YAML; the differences handled here: characters outside the
    Basic Multilingual Plane (JSON's surrogate pairs are not YAML) and floats
    in exponent form without a dot (YAML 1.1 would read "1e+20" as a string).
    """
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    if value is None or isinstance(value, bool | int | str):
        return _SURROGATES.sub(_unpair, json.dumps(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be written to a manifest")
        text = repr(value)
        if "e" in text and "." not in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, Mapping):
        items = (f"{to_yaml(str(k))}: {to_yaml(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(to_yaml(v) for v in value) + "]"
    raise TypeError(f"a {type(value).__name__} cannot be written to a manifest")


def to_json(value: Any) -> str:
    """`value` as compact JSON text (a string; print it with `toyaml`)."""
    return json.dumps(
        value, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    raise TypeError(f"a {type(value).__name__} cannot be written as JSON")


# An escaped backslash, or a surrogate pair; matching `\\` first keeps `\\ud83d` literal.
_SURROGATES = re.compile(r"\\\\|\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})")


def _unpair(match: re.Match[str]) -> str:
    if match.group(1) is None:
        return match.group(0)
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"


# -- step 2: pod template fragments ------------------------------------------------


def _check_fragment(*, field: str, fragment: Mapping[str, Any]) -> None:
    """A pod template fragment has metadata (labels, annotations of strings) and spec."""
    for key in fragment:
        if key not in ("metadata", "spec"):
            raise RenderError(
                field=f"{field}.{key}",
                message="unknown field; a pod template has metadata and spec "
                "(containers go under spec.containers)",
            )
    metadata = fragment.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, Mapping):
        raise RenderError(field=f"{field}.metadata", message="must be an object")
    for key, value in metadata.items():
        where = f"{field}.metadata.{key}"
        if key not in ("labels", "annotations"):
            raise RenderError(field=where, message="only labels and annotations can be set")
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise RenderError(field=where, message="must be an object of strings")
        for name, text in value.items():
            # Kubernetes refuses `exit-code: 1`; say so here, naming the field.
            if text is not None and not isinstance(text, str):
                raise RenderError(field=f"{where}.{name}", message="must be a string (quote it)")
    if not isinstance(fragment.get("spec") or {}, Mapping):
        raise RenderError(field=f"{field}.spec", message="must be an object")


def _check_pod(*, field: str, pod: Mapping[str, Any]) -> None:
    """The pod template still has a pod spec with a container named main."""
    spec = pod.get("spec")
    if not isinstance(spec, Mapping):
        raise RenderError(field=field, message="the pod template has no spec")
    containers = spec.get("containers")
    if not isinstance(containers, list) or not all(isinstance(c, Mapping) for c in containers):
        raise RenderError(field=field, message="spec.containers must be a list of containers")
    main = [c for c in containers if c.get("name") == "main"]
    if len(main) != 1:
        raise RenderError(
            field=field,
            message="the pod needs exactly one container named main "
            "(every container needs a name to be merged)",
        )
    if not isinstance(main[0].get("image"), str) or not main[0]["image"]:
        raise RenderError(field=field, message="the main container has no image")


# -- step 3: what the operator owns -------------------------------------------------


def _own(
    *,
    manifest: dict[str, Any],
    job: model.PipelineJob,
    worker: model.Worker,
    attempt: int,
    job_name: str,
    timeout_seconds: int | None,
) -> None:
    labels = {
        _MANAGED_BY: "conveyor",
        "conveyor.dev/pipelinejob": job.meta.name,
        "conveyor.dev/attempt": str(attempt),
        "conveyor.dev/worker": worker.meta.name,
    }
    metadata = _object(manifest, "metadata")
    metadata["name"] = job_name
    metadata["namespace"] = job.meta.namespace
    metadata.pop("generateName", None)
    # The operator adds the owner reference to its PipelineJob when it creates the Job.
    metadata.pop("ownerReferences", None)
    _object(metadata, "labels").update(labels)

    spec = manifest["spec"]
    # One pod per attempt, never retried by the Job controller: Conveyor counts
    # attempts and concurrency itself.
    spec["backoffLimit"] = 0
    spec["completions"] = 1
    spec["parallelism"] = 1
    if timeout_seconds is None:
        spec.pop("activeDeadlineSeconds", None)
    else:
        spec["activeDeadlineSeconds"] = timeout_seconds

    pod = spec["template"]
    _object(_object(pod, "metadata"), "labels").update(labels)
    pod["spec"]["restartPolicy"] = "Never"


def _object(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """parent[key] as a dict, replacing anything else found there."""
    value = parent.get(key)
    if not isinstance(value, dict):
        value = parent[key] = {}
    return value
