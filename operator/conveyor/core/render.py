"""Render the batch/v1 Job manifest for one attempt of a PipelineJob.

Pure apart from reading the Job templates packaged next to this module: no
API calls, no clock. The steps:

1. render the worker type's Jinja2 template (or the Worker's `jobTemplate`)
   in a sandbox with strict undefined, and parse the YAML it prints;
2. merge the Worker's pod template fragment into `spec.template`, then the
   PipelineJob's `podTemplate` over that (the job wins);
3. set the fields the operator owns again, so no template can break them.

Templates see `job` (name, namespace, type, params, priority), `attempt`,
`job_name`, `worker` (name, type), `timeout_seconds` and `agent_image` (the
operator's setting, core/images.py), and print values with the `toyaml`
filter (a quoted YAML flow value; user text can never become YAML structure)
or `tojson` (JSON text, e.g. for an env var holding JSON).
`refuse(field, message)` ends rendering with a RenderError for that field, for
params a template cannot serve. `{% import "_helpers.yaml.j2" as h with
context %}` gives the shared labels, metadata and security contexts.
"""

from __future__ import annotations

import copy
import json
import math
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
import jinja2.exceptions
import jinja2.runtime
import jinja2.sandbox
import yaml

from conveyor.core import images, merge, model, names, params, podpolicy, sandbox

WORKER_TEMPLATE_FIELD = "Worker.spec.jobTemplate"
WORKER_POD_FIELD = "Worker.spec.template"
JOB_POD_FIELD = "spec.podTemplate"


def refused_field(*, job: model.PipelineJob, worker: model.Worker | None) -> str:
    """Whom the API's refusal of a Job blames: the job's podTemplate only if set."""
    if worker is not None and len(worker.meta.name) > _MAX_NAME:
        return "Worker.metadata.name"  # a Job label value (made before the CRD bound it)
    if job.spec is not None and job.spec.pod_template:
        return JOB_POD_FIELD
    has_template = worker is not None and worker.spec is not None and worker.spec.job_template
    return WORKER_TEMPLATE_FIELD if has_template else WORKER_POD_FIELD


# Label values, and so Job names (the Job controller labels pods with them), stop at 63.
_MAX_NAME = 63
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
    agent_image: str = images.DEFAULT_AGENT,
) -> dict[str, Any]:
    """The Job manifest for `attempt` (1-based) of `job` on `worker`.

    `params` are the job's params, already validated, with the keys as the user
    wrote them. Raises RenderError for anything a user or a Worker got wrong.
    """
    if attempt < 1:
        raise ValueError(f"attempt must be 1 or more, not {attempt}")
    spec = _job_spec(job)
    worker_spec = _worker_spec(worker)
    job_name = _job_name(job=job, worker=worker, attempt=attempt)
    timeout_seconds = (
        None if spec.timeout is None else max(1, math.ceil(spec.timeout.total_seconds()))
    )
    context = _context(job=job, worker=worker, attempt=attempt, params=params)
    context.update(timeout_seconds=timeout_seconds, agent_image=agent_image)

    manifest = _template_output(worker_spec=worker_spec, context=context)
    pod = manifest["spec"]["template"]
    manifest["spec"]["template"] = _merged(
        pod=pod, worker_fragment=worker_spec.template, job_fragment=spec.pod_template
    )
    if len(json.dumps(manifest)) > sandbox.MAX_OUTPUT:
        raise RenderError(
            field=WORKER_TEMPLATE_FIELD if worker_spec.job_template is not None else JOB_POD_FIELD,
            message=f"the Job manifest is larger than {sandbox.MAX_OUTPUT // 1024} KiB",
        )

    _own(
        manifest=manifest,
        job=job,
        worker=worker,
        attempt=attempt,
        job_name=job_name,
        timeout_seconds=timeout_seconds,
    )
    return manifest


def _context(
    *, job: model.PipelineJob, worker: model.Worker, attempt: int, params: Mapping[str, Any]
) -> dict[str, Any]:
    """What a Job template sees (but timeout_seconds and agent_image)."""
    spec, worker_spec = _job_spec(job), _worker_spec(worker)
    return {
        "job": {
            "name": job.meta.name,
            "namespace": job.meta.namespace,
            "type": spec.type.value,
            "params": copy.deepcopy(dict(params)),
            "priority": spec.priority,
        },
        "attempt": attempt,
        "job_name": names.job_name(pipelinejob=job.meta.name, attempt=attempt),
        "worker": {"name": worker.meta.name, "type": worker_spec.type.value},
        # For _helpers.yaml.j2, so the templates label pods as _own does.
        "owner_labels": {
            **names.owner_labels(
                pipelinejob=job.meta.name, attempt=attempt, worker=worker.meta.name
            ),
            names.LABEL_JOB_TYPE: spec.type.value,
        },
    }


def _job_name(*, job: model.PipelineJob, worker: model.Worker, attempt: int) -> str:
    """<name>-<attempt>, once the job and its Worker are known to fit together."""
    spec, worker_spec = _job_spec(job), _worker_spec(worker)
    if model.WORKER_TYPE_OF[spec.type] != worker_spec.type:
        raise RenderError(
            field="spec.worker",
            message=f"Worker {worker.meta.name} has type {worker_spec.type.value}; "
            f"{spec.type.value} jobs need a Worker of type {model.WORKER_TYPE_OF[spec.type]}",
        )
    job_name = names.job_name(pipelinejob=job.meta.name, attempt=attempt)
    if len(job_name) > _MAX_NAME:
        raise RenderError(
            field="metadata.name",
            message=f"the Job name {job_name!r} is longer than {_MAX_NAME} characters; "
            "use a shorter PipelineJob name",
        )
    return job_name


def _template_output(
    *, worker_spec: model.WorkerSpec, context: Mapping[str, Any]
) -> dict[str, Any]:
    """The Job the Worker's jobTemplate, or its type's default template, prints."""
    if worker_spec.job_template is not None:
        text = worker_spec.job_template
        return _render(
            field=WORKER_TEMPLATE_FIELD,
            undefined_field=WORKER_TEMPLATE_FIELD,
            filename=_FROM_TEXT,
            load=lambda: sandbox.compile_text(text),
            context=context,
        )
    name = f"{worker_spec.type.value}.yaml.j2"
    return _render(
        field=f"templates/{name}",
        # Default templates only ever miss something the params should have had.
        undefined_field="spec.params",
        filename=name,
        load=lambda: sandbox.environment().get_template(name),
        context=context,
    )


def _merged(
    *, pod: dict[str, Any], worker_fragment: Mapping[str, Any], job_fragment: Mapping[str, Any]
) -> dict[str, Any]:
    """The Worker's fragment merged over the template's pod, then the job's
    over that, once the pod policy allows what the job's sets."""
    _check_fragment(field=WORKER_POD_FIELD, fragment=worker_fragment)
    pod = merge.merge(base=pod, overlay=worker_fragment)
    _check_pod(field=WORKER_POD_FIELD, pod=pod)
    _check_fragment(field=JOB_POD_FIELD, fragment=job_fragment)
    names = [c["name"] for c in pod["spec"]["containers"]]
    refused = podpolicy.check(fragment=job_fragment, containers=names)
    if refused is not None:
        raise RenderError(field=refused.field, message=refused.message)
    pod = merge.merge(base=pod, overlay=job_fragment)
    _check_pod(field=JOB_POD_FIELD, pod=pod)
    return pod


def attempt_manifest(
    *,
    job: model.PipelineJob,
    worker: model.Worker,
    attempt: int,
    agent_image: str = images.DEFAULT_AGENT,
) -> dict[str, Any] | model.SpecError:
    """The Job for `attempt`, params validated first, or why there is none; never raises."""
    if job.spec is None:
        return job.spec_error or model.SpecError(field="spec", message="is missing")
    parsed = params.validate(job_type=job.spec.type, params=job.spec.params)
    if isinstance(parsed, model.SpecError):
        return parsed
    dumped = parsed.model_dump(by_alias=True, mode="json", exclude_none=True)
    if isinstance(parsed, params.DeployParams):  # promote too
        dumped.setdefault("targetNamespace", job.meta.namespace)
    try:
        return render_job(
            job=job, worker=worker, attempt=attempt, params=dumped, agent_image=agent_image
        )
    except RenderError as exc:
        return model.SpecError(field=exc.field, message=exc.message)


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
        text = sandbox.render_text(load(), context)
    except jinja2.TemplateSyntaxError as exc:
        where = _where(exc.name or filename, exc.lineno)
        raise RenderError(field=field, message=f"{where}: {exc.message}") from exc
    except sandbox.Refused as exc:
        raise RenderError(field=exc.field, message=exc.message) from exc
    except sandbox.Budget as exc:
        # Over a budget: the Worker's template, or the params a default one prints.
        raise RenderError(field=undefined_field, message=_located(exc, filename)) from exc
    except jinja2.TemplateNotFound as exc:
        message = f"no template named {exc.name!r}; only the packaged templates can be imported"
        raise RenderError(field=field, message=_located(exc, filename, message)) from exc
    except jinja2.UndefinedError as exc:
        raise RenderError(field=undefined_field, message=_located(exc, filename)) from exc
    except MemoryError as exc:
        raise RenderError(field=field, message="uses more memory than a render may") from exc
    except Exception as exc:
        # Template code is user code: whatever it raises (sandbox violations,
        # ZeroDivisionError, RecursionError, ...) is the template's fault, not ours.
        raise RenderError(field=field, message=_located(exc, filename)) from exc
    try:
        manifest = sandbox.load_yaml(text)
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
    labels = names.owner_labels(pipelinejob=job.meta.name, attempt=attempt, worker=worker.meta.name)
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
