"""render.render_job: one attempt of a PipelineJob as a batch/v1 Job manifest."""

from __future__ import annotations

import copy
import importlib.resources
import json
from typing import Any

import pytest
import yaml

from conveyor.core import model, render, sandbox
from conveyor.core import params as validation
from tests import builders as b
from tests.core import pss

# -- builders ------------------------------------------------------------------------

DIGEST = "sha256:" + "0" * 64
# The default image of the agent job types (the Dockerfile's agent target).
AGENT_IMAGE = "conveyor-agent:0.1.0"

# Params each job type renders with, shaped as conveyor.core.params dumps them
# (camelCase; a Secret as {name, key}): small, but what a user would write.
PARAMS: dict[str, dict[str, Any]] = {
    "build": {
        "repository": "https://github.com/acme/api.git",
        "image": "registry.example/acme/api:1",
        "revision": "main",
    },
    "custom": {"image": "alpine:3.20", "command": ["sh", "-c", "echo hi"]},
    "deploy": {
        "chart": {"name": "api", "repository": "https://charts.example"},
        "release": "api",
        "targetNamespace": "prod",
    },
    "promote": {
        "chart": {"name": "api", "repository": "https://charts.example"},
        "release": "api",
        "targetNamespace": "prod",
        "image": "registry.example/acme/api",
        "digest": DIGEST,
        "fromEnvironment": "staging",
        "toEnvironment": "production",
    },
    "ticket": {
        "system": "jira",
        "action": "create",
        "url": "https://acme.atlassian.net",
        "credentialsSecret": {"name": "jira-bot"},
        "project": "OPS",
        "summary": "Deploy api 1.2.3 to prod",
    },
    "canary-analysis": {
        "baseline": "api-baseline",
        "canary": "api-canary",
        "address": "http://prometheus.monitoring:9090",
        "duration": "10m",
        "metrics": [
            {"name": "errors", "query": 'sum(rate(http_errors_total{app="$variant"}[1m]))'}
        ],
    },
    "clone-env": {"source": "staging", "target": "qa-17"},
    "android-build": {"repository": "https://github.com/acme/app.git", "output": "aab"},
    "android-deploy": {
        "artifact": "app-build-7/app-release.aab",
        "store": "play",
        "packageName": "com.acme.app",
        "track": "internal",
        "credentialsSecret": {"name": "play-publisher"},
    },
}

RUNNABLE = [t for t in model.JobType if model.WORKER_TYPE_OF[t] is not None]


def pipelinejob(
    *,
    name: str = "api-42",
    job_type: str = "build",
    params: dict[str, Any] | None = None,
    **spec: Any,
) -> model.PipelineJob:
    """A parsed PipelineJob in namespace team-a; `spec` adds fields as a user writes them."""
    return model.parse_pipelinejob(
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "PipelineJob",
            "metadata": {"name": name, "namespace": "team-a", "uid": "u-1"},
            "spec": {
                "type": job_type,
                "params": PARAMS.get(job_type, {}) if params is None else params,
                **spec,
            },
        }
    )


def worker(*, name: str | None = None, worker_type: str = "build", **spec: Any) -> model.Worker:
    """A parsed Worker in namespace team-a, named after its type unless told."""
    return model.parse_worker(
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "Worker",
            "metadata": {"name": name or worker_type, "namespace": "team-a"},
            "spec": {"type": worker_type, **spec},
        }
    )


def render_job(
    job: model.PipelineJob, on: model.Worker | None = None, attempt: int = 1, **settings: Any
) -> dict[str, Any]:
    """Render as the operator does: the Worker of the job's worker type, the spec's
    params; `settings` are the operator's (agent_image)."""
    assert job.spec is not None, job.spec_error
    worker_type = model.WORKER_TYPE_OF[job.spec.type] or model.WorkerType.BUILD
    return render.render_job(
        job=job,
        worker=on or worker(worker_type=worker_type.value),
        attempt=attempt,
        params=job.spec.params,
        **settings,
    )


def main_container(manifest: dict[str, Any]) -> dict[str, Any]:
    containers = manifest["spec"]["template"]["spec"]["containers"]
    (main,) = [c for c in containers if c["name"] == "main"]
    assert isinstance(main, dict)
    return main


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """Env by name: the literal value, or the valueFrom object."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def job_template(body: str) -> str:
    """A Worker jobTemplate: a minimal valid Job; `body` continues its main container."""
    return (
        "apiVersion: batch/v1\n"
        "kind: Job\n"
        "metadata: {name: {{ job_name | toyaml }}}\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "        - name: main\n"
        "          image: busybox:1.36\n" + body
    )


OWNED_LABELS = {
    "app.kubernetes.io/managed-by": "conveyor",
    "conveyor.dev/pipelinejob": "api-42",
    "conveyor.dev/attempt": "3",
}


# -- every job type renders a Job the operator can rely on ---------------------------


@pytest.mark.parametrize("job_type", RUNNABLE, ids=str)
def test_every_job_type_renders_a_job_with_the_operator_fields(job_type: model.JobType) -> None:
    manifest = render_job(pipelinejob(job_type=job_type.value), attempt=3)
    worker_name = model.WORKER_TYPE_OF[job_type]
    labels = {**OWNED_LABELS, "conveyor.dev/worker": str(worker_name)}

    assert manifest["apiVersion"] == "batch/v1"
    assert manifest["kind"] == "Job"
    assert manifest["metadata"]["name"] == "api-42-3"
    assert manifest["metadata"]["namespace"] == "team-a"
    assert labels.items() <= manifest["metadata"]["labels"].items()
    assert "ownerReferences" not in manifest["metadata"]
    assert manifest["spec"]["backoffLimit"] == 0
    assert "activeDeadlineSeconds" not in manifest["spec"]
    pod = manifest["spec"]["template"]
    assert labels.items() <= pod["metadata"]["labels"].items()
    assert pod["spec"]["restartPolicy"] == "Never"
    main = main_container(manifest)
    assert main["image"]
    assert main["terminationMessagePolicy"] == "FallbackToLogsOnError"


# Where a job type cannot run restricted, docs/job-types.md says why; these are
# the only rules it breaks.
NOT_RESTRICTED = {
    # Rootless BuildKit needs its user namespaces: seccomp and AppArmor unconfined.
    model.JobType.BUILD: [
        "initContainers[build]: seccompProfile Unconfined",
        "initContainers[build]: appArmorProfile Unconfined",
        "initContainers[build]: seccompProfile must be RuntimeDefault or Localhost",
    ],
}


@pytest.mark.parametrize("job_type", RUNNABLE, ids=str)
def test_every_job_type_meets_the_restricted_pod_security_standard(
    job_type: model.JobType,
) -> None:
    pod = render_job(pipelinejob(job_type=job_type.value))["spec"]["template"]

    assert sorted(pss.restricted(pod["spec"], pod.get("metadata"))) == sorted(
        NOT_RESTRICTED.get(job_type, [])
    )
    # Even the build pod is unprivileged: no privileged container, no capability, not root.
    assert pss.baseline(pod["spec"]) == NOT_RESTRICTED.get(job_type, [])[:2]


@pytest.mark.parametrize(
    ("pod", "broken"),
    [
        (
            {
                "securityContext": {
                    "runAsNonRoot": True,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [
                    {
                        "name": "main",
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }
                ],
            },
            [],
        ),
        ({"hostNetwork": True, "containers": []}, ["hostNetwork must not be true"]),
        (
            {"containers": [{"name": "a", "securityContext": {"privileged": True}}]},
            [
                "containers[a]: privileged",
                "containers[a]: allowPrivilegeEscalation must be false",
                "containers[a]: runAsNonRoot must be true",
                "containers[a]: seccompProfile must be RuntimeDefault or Localhost",
                "containers[a]: capabilities must drop ALL",
            ],
        ),
        (
            {"volumes": [{"name": "root", "hostPath": {"path": "/"}}], "containers": []},
            ["volumes[root]: hostPath", "volumes[root]: type not allowed"],
        ),
    ],
)
def test_the_pod_security_checker(pod: dict[str, Any], broken: list[str]) -> None:
    assert pss.restricted(pod) == broken


@pytest.mark.parametrize("job_type", RUNNABLE, ids=str)
def test_every_env_value_and_label_is_a_string(job_type: model.JobType) -> None:
    # The API server refuses numbers and booleans there.
    manifest = render_job(pipelinejob(job_type=job_type.value))
    pod = manifest["spec"]["template"]
    for container in [*pod["spec"].get("initContainers", []), *pod["spec"]["containers"]]:
        for var in container.get("env", []):
            assert isinstance(var.get("value", ""), str), var
    for labels in (manifest["metadata"]["labels"], pod["metadata"]["labels"]):
        assert all(isinstance(v, str) for v in labels.values()), labels


@pytest.mark.parametrize("job_type", RUNNABLE, ids=str)
def test_rendering_is_deterministic(job_type: model.JobType) -> None:
    job = pipelinejob(job_type=job_type.value)
    assert render_job(job) == render_job(job)


def test_every_worker_type_has_a_packaged_template() -> None:
    templates = importlib.resources.files("conveyor.core").joinpath("templates")
    for worker_type in model.WorkerType:
        assert templates.joinpath(f"{worker_type.value}.yaml.j2").is_file(), worker_type


@pytest.mark.parametrize(
    ("timeout", "seconds"),
    [("30m", 1800), ("1h30m", 5400), ("90s", 90), ("500ms", 1), ("1.5s", 2)],
)
def test_timeout_becomes_active_deadline_seconds(timeout: str, seconds: int) -> None:
    manifest = render_job(pipelinejob(timeout=timeout))
    assert manifest["spec"]["activeDeadlineSeconds"] == seconds


# -- what each job type does ------------------------------------------------------------


def build_container(manifest: dict[str, Any]) -> dict[str, Any]:
    (build,) = manifest["spec"]["template"]["spec"]["initContainers"]
    assert isinstance(build, dict)
    return build


@pytest.mark.parametrize(
    ("revision", "context"),
    [
        ("main", "https://github.com/acme/api.git#main"),
        ("v1.2.3", "https://github.com/acme/api.git#v1.2.3"),
        ("refs/pull/7/head", "https://github.com/acme/api.git#refs/pull/7/head"),
        (
            "0123456789abcdef0123456789abcdef01234567",
            "https://github.com/acme/api.git#0123456789abcdef0123456789abcdef01234567",
        ),
    ],
)
def test_build_runs_rootless_buildkit_on_the_revision(revision: str, context: str) -> None:
    params = {**PARAMS["build"], "revision": revision, "context": "."}  # . is the root
    manifest = render_job(pipelinejob(params=params))
    build = build_container(manifest)
    assert build["image"].startswith("moby/buildkit:")
    assert build["image"].endswith("-rootless")
    assert build["command"] == ["buildctl-daemonless.sh"]
    assert build["args"] == [
        "build",
        "--frontend=dockerfile.v0",
        f"--opt=context={context}",
        "--opt=filename=Dockerfile",
        "--output=type=image,name=registry.example/acme/api:1,push=true",
        "--metadata-file=/outputs/metadata.json",
    ]
    # The agent turns BuildKit's metadata file into the outputs.
    main = main_container(manifest)
    assert main["command"] == ["conveyor-agent", "build"]
    assert env_of(main)["BUILD_METADATA"] == "/outputs/metadata.json"


def test_build_options() -> None:
    params = {
        **PARAMS["build"],
        "dockerfile": "build/Dockerfile",
        "context": "services/api",
        "buildArgs": {"VERSION": "1.2.3", "GOFLAGS": "-mod=vendor"},
        "target": "runtime",
        "cache": True,
        "gitSecret": {"name": "git", "key": "token"},
    }
    build = build_container(render_job(pipelinejob(params=params)))
    assert build["args"][2:-2] == [
        "--opt=context=https://github.com/acme/api.git#main:services/api",
        "--opt=filename=build/Dockerfile",
        "--opt=build-arg:VERSION=1.2.3",
        "--opt=build-arg:GOFLAGS=-mod=vendor",
        "--opt=target=runtime",
        "--import-cache=type=registry,ref=registry.example/acme/api:buildcache",
        "--export-cache=type=registry,mode=max,ref=registry.example/acme/api:buildcache",
        "--secret=id=GIT_AUTH_TOKEN,env=GIT_AUTH_TOKEN",
    ]
    assert env_of(build)["GIT_AUTH_TOKEN"] == {"secretKeyRef": {"name": "git", "key": "token"}}


def test_custom_runs_the_users_image_command_and_env() -> None:
    params = {
        "image": "alpine:3.20",
        "command": ["sh", "-c", "echo hi"],
        "args": ["--verbose"],
        "workingDir": "/src",
        "env": {"STAGE": "prod", "RETRIES": 3, "DRY_RUN": False},
    }
    main = main_container(render_job(pipelinejob(job_type="custom", params=params)))
    assert main["image"] == "alpine:3.20"
    assert main["command"] == ["sh", "-c", "echo hi"]
    assert main["args"] == ["--verbose"]
    assert main["workingDir"] == "/src"
    assert main["env"] == [
        {"name": "STAGE", "value": "prod"},
        {"name": "RETRIES", "value": "3"},
        {"name": "DRY_RUN", "value": "false"},
    ]


def test_custom_env_may_be_a_list_of_env_vars() -> None:
    env = [
        {"name": "A", "value": "1"},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
    ]
    params = {"image": "alpine:3.20", "env": env}
    main = main_container(render_job(pipelinejob(job_type="custom", params=params)))
    assert main["env"] == env
    assert "command" not in main  # the image's own entrypoint


AGENT_CASES: list[tuple[str, dict[str, Any]]] = [
    ("deploy", PARAMS["deploy"]),
    ("deploy", {"release": "api", "chart": {"name": "api"}, "values": {"replicas": 3}}),
    ("deploy", {"manifests": ["k8s/", "https://example.com/api.yaml"], "targetNamespace": "prod"}),
    ("deploy", {**PARAMS["deploy"], "rollbackOnFailure": True}),
    ("deploy", {"release": "api", "targetNamespace": "prod", "rollback": {"revision": 3}}),
    ("promote", PARAMS["promote"]),
    ("ticket", PARAMS["ticket"]),
    ("canary-analysis", PARAMS["canary-analysis"]),
    ("clone-env", PARAMS["clone-env"]),
    ("clone-env", {**PARAMS["clone-env"], "include": ["ConfigMap"], "dryRun": True}),
    ("android-deploy", PARAMS["android-deploy"]),
    ("android-deploy", {**PARAMS["android-deploy"], "track": "production", "rollout": 0.1}),
    (
        "android-deploy",
        {
            "artifact": "https://ci.example/app.apk",
            "store": "firebase",
            "appId": "1:123:android:abc",
            "groups": ["qa", "beta"],
            "credentialsSecret": {"name": "firebase"},
        },
    ),
    (
        "android-deploy",
        {
            "artifact": "https://ci.example/app.apk?token=1",
            "store": "artifactory",
            "destination": "https://artifactory.example/android/",
            "credentialsSecret": {"name": "artifactory"},
        },
    ),
]


@pytest.mark.parametrize(("job_type", "params"), AGENT_CASES)
def test_agent_job_types_run_the_agent_with_the_params_as_json(
    job_type: str, params: dict[str, Any]
) -> None:
    # The agent reads the params as the PipelineJob gives them: one JSON env var.
    main = main_container(render_job(pipelinejob(job_type=job_type, params=params)))
    assert main["image"] == AGENT_IMAGE
    assert main["command"] == ["conveyor-agent", job_type]
    env = env_of(main)
    assert env["PARAMS"] == sandbox.to_json(params)
    assert env["NAMESPACE"] == "team-a"
    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in main["volumeMounts"]


@pytest.mark.parametrize(("job_type", "params"), AGENT_CASES[:1] + AGENT_CASES[-4:-3])
def test_a_worker_pins_the_agent_image_by_digest(job_type: str, params: dict[str, Any]) -> None:
    pinned = f"registry.example/conveyor-agent@{DIGEST}"
    worker_type = model.WORKER_TYPE_OF[model.JobType(job_type)]
    assert worker_type is not None
    on = worker(
        worker_type=worker_type.value,
        template={"spec": {"containers": [{"name": "main", "image": pinned}]}},
    )
    main = main_container(render_job(pipelinejob(job_type=job_type, params=params), on=on))
    assert main["image"] == pinned
    assert main["command"] == ["conveyor-agent", job_type]


AGENT_TYPES = [t for t in RUNNABLE if t is not model.JobType.CUSTOM]


def agent_containers(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    pod = manifest["spec"]["template"]["spec"]
    containers = [*pod.get("initContainers", []), *pod["containers"]]
    return [c for c in containers if (c.get("command") or [""])[0] == "conveyor-agent"]


@pytest.mark.parametrize("job_type", AGENT_TYPES, ids=str)
def test_the_operators_agent_image_is_in_every_agent_container(job_type: model.JobType) -> None:
    # The operator's --agent-image (the chart's agent.image values), digest-pinned.
    pinned = f"registry.example/platform/conveyor-agent@{DIGEST}"
    manifest = render_job(pipelinejob(job_type=job_type.value), agent_image=pinned)

    agents = agent_containers(manifest)
    assert agents
    assert {c["image"] for c in agents} == {pinned}
    assert AGENT_IMAGE not in json.dumps(manifest)


def test_the_agent_image_reaches_the_validated_path_and_worker_templates() -> None:
    pinned = "registry.example/conveyor-agent:0.2.0"
    text = '{% import "_helpers.yaml.j2" as h with context %}\n' + job_template("")
    text = text.replace("image: busybox:1.36", "image: {{ h.agent_image | toyaml }}")
    job = pipelinejob(job_type="clone-env")

    validated = render.attempt_manifest(
        job=job, worker=worker(worker_type="clone-env"), attempt=1, agent_image=pinned
    )
    own = render_job(job, on=worker(worker_type="clone-env", jobTemplate=text), agent_image=pinned)

    assert not isinstance(validated, model.SpecError), validated
    assert main_container(validated)["image"] == pinned
    assert main_container(own)["image"] == pinned


def android_build(params: dict[str, Any], **kwargs: Any) -> dict[str, dict[str, Any]]:
    """The android-build pod's containers by name, in their order."""
    pod = render_job(pipelinejob(job_type="android-build", params=params), **kwargs)
    spec = pod["spec"]["template"]["spec"]
    return {c["name"]: c for c in [*spec["initContainers"], *spec["containers"]]}


@pytest.mark.parametrize(
    ("params", "task", "checkout", "collect"),
    [
        (
            PARAMS["android-build"],
            "bundleRelease",
            {"repository": "https://github.com/acme/app.git", "revision": "main"},
            {"module": "app", "output": "aab", "gradleTask": "bundleRelease"},
        ),
        (
            {
                "repository": "https://github.com/acme/app.git",
                "revision": "v2.1.0",
                "module": ":wear",
                "output": "apk",
                "gradleTask": ":wear:assembleFreeDebug",
            },
            ":wear:assembleFreeDebug",
            {"repository": "https://github.com/acme/app.git", "revision": "v2.1.0"},
            {"module": ":wear", "output": "apk", "gradleTask": ":wear:assembleFreeDebug"},
        ),
    ],
)
def test_android_build_is_checkout_then_gradle_then_the_agent(
    params: dict[str, Any], task: str, checkout: dict[str, Any], collect: dict[str, Any]
) -> None:
    containers = android_build(params)

    assert list(containers) == ["checkout", "gradle", "main"]
    assert containers["checkout"]["image"] == AGENT_IMAGE
    assert containers["checkout"]["command"] == [
        "conveyor-agent",
        "android-build",
        "--step",
        "checkout",
    ]
    assert json.loads(env_of(containers["checkout"])["PARAMS"]) == checkout
    # Gradle runs in the Android SDK image as a plain command: no shell, no script.
    assert containers["gradle"]["image"].startswith("cimg/android:")
    assert containers["gradle"]["command"] == ["./gradlew", "--no-daemon", task]
    assert containers["gradle"]["workingDir"] == "/workspace/src"
    assert containers["main"]["image"] == AGENT_IMAGE
    assert containers["main"]["command"] == ["conveyor-agent", "android-build"]
    assert json.loads(env_of(containers["main"])["PARAMS"]) == collect
    assert env_of(containers["main"])["PIPELINEJOB"] == "api-42"
    for name in ("checkout", "main"):  # the agent's containers, as every agent container
        assert containers[name]["securityContext"]["readOnlyRootFilesystem"] is True
        assert {"name": "tmp", "mountPath": "/tmp"} in containers[name]["volumeMounts"]
    assert {c["volumeMounts"][-1]["name"] for c in containers.values()} >= {"workspace"}
    assert {"name": "workspace", "mountPath": "/workspace", "readOnly": True} in containers["main"][
        "volumeMounts"
    ]


def test_android_build_gives_each_container_only_its_secrets() -> None:
    params = {
        **PARAMS["android-build"],
        "signingSecret": {"name": "signing"},
        "gitSecret": {"name": "git"},
    }
    containers = android_build(params)

    refs = {
        name: {
            (e["name"], e["valueFrom"]["secretKeyRef"]["name"])
            for e in c.get("env", [])
            if "valueFrom" in e
        }
        for name, c in containers.items()
    }
    assert refs == {
        "checkout": {("GIT_USERNAME", "git"), ("GIT_PASSWORD", "git")},
        "gradle": {
            ("ORG_GRADLE_PROJECT_signingStorePassword", "signing"),
            ("ORG_GRADLE_PROJECT_signingKeyAlias", "signing"),
            ("ORG_GRADLE_PROJECT_signingKeyPassword", "signing"),
        },
        "main": set(),
    }
    mounts = {n: [m["name"] for m in c["volumeMounts"]] for n, c in containers.items()}
    assert [n for n, names in mounts.items() if "signing" in names] == ["gradle"]


def test_android_build_with_its_secrets_is_still_restricted() -> None:
    params = {
        **PARAMS["android-build"],
        "signingSecret": {"name": "signing", "key": "upload.jks"},
        "gitSecret": {"name": "git", "key": "token"},
    }
    pod = render_job(pipelinejob(job_type="android-build", params=params))["spec"]["template"]

    assert pss.restricted(pod["spec"], pod.get("metadata")) == []
    # The Android image's user, for every container: all of them write the workspace.
    assert pod["spec"]["securityContext"]["runAsUser"] == 3434
    assert all("runAsUser" not in c["securityContext"] for c in pod["spec"]["initContainers"])


def test_deploy_values_from_are_mounted_by_reference() -> None:
    params = {
        **PARAMS["deploy"],
        "valuesFrom": [
            {"kind": "ConfigMap", "name": "api-values", "valuesKey": "values.yaml"},
            {"kind": "Secret", "name": "api-secrets", "valuesKey": "prod.yaml", "optional": True},
        ],
    }
    manifest = render_job(pipelinejob(job_type="deploy", params=params))
    pod = manifest["spec"]["template"]["spec"]
    assert [v for v in pod["volumes"] if v["name"] != "tmp"] == [
        {
            "name": "values-00",
            "configMap": {
                "name": "api-values",
                "items": [{"key": "values.yaml", "path": "values"}],
                "optional": False,
            },
        },
        {
            "name": "values-01",
            "secret": {
                "secretName": "api-secrets",
                "items": [{"key": "prod.yaml", "path": "values"}],
                "optional": True,
            },
        },
    ]
    assert [m["mountPath"] for m in main_container(manifest)["volumeMounts"]] == [
        "/tmp",
        "/values/00",
        "/values/01",
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**PARAMS["canary-analysis"], "provider": "cloudwatch"}, "spec.params.provider"),
        ({**PARAMS["canary-analysis"], "address": None}, "spec.params.address"),
    ],
)
def test_canary_refuses_what_its_template_cannot_query(params: dict[str, Any], field: str) -> None:
    params = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(render.RenderError) as caught:
        render_job(pipelinejob(job_type="canary-analysis", params=params))
    assert caught.value.field == field


def test_datadog_needs_no_address() -> None:
    params = {k: v for k, v in PARAMS["canary-analysis"].items() if k != "address"}
    main = main_container(
        render_job(
            pipelinejob(job_type="canary-analysis", params={**params, "provider": "datadog"})
        )
    )
    assert main["image"] == AGENT_IMAGE


@pytest.mark.parametrize(
    ("provider", "credentials", "items"),
    [
        ("prometheus", {"name": "prom"}, [{"key": "token", "path": "token"}]),
        ("influxdb", {"name": "influx", "key": "read"}, [{"key": "read", "path": "token"}]),
        (
            "datadog",
            {"name": "dd"},
            [{"key": "apiKey", "path": "apiKey"}, {"key": "appKey", "path": "appKey"}],
        ),
    ],
)
def test_canary_mounts_only_the_keys_it_reads(
    provider: str, credentials: dict[str, str], items: list[dict[str, str]]
) -> None:
    params = {**PARAMS["canary-analysis"], "provider": provider, "credentialsSecret": credentials}
    pod = render_job(pipelinejob(job_type="canary-analysis", params=params))["spec"]["template"]
    (volume,) = [v for v in pod["spec"]["volumes"] if "secret" in v]
    assert volume["secret"] == {"secretName": credentials["name"], "items": items}


@pytest.mark.parametrize("job_type", RUNNABLE, ids=str)
def test_params_as_the_operator_validates_them_render(job_type: model.JobType) -> None:
    # The controller's path: conveyor.core.params validates, fills defaults and dumps.
    parsed = validation.validate(job_type=job_type, params=PARAMS[job_type.value])
    assert not isinstance(parsed, model.SpecError), parsed
    dumped = parsed.model_dump(by_alias=True, mode="json", exclude_none=True)
    job = pipelinejob(job_type=job_type.value, params=PARAMS[job_type.value])
    worker_type = model.WORKER_TYPE_OF[job_type]
    assert worker_type is not None
    manifest = render.render_job(
        job=job, worker=worker(worker_type=worker_type.value), attempt=1, params=dumped
    )
    assert main_container(manifest)["image"]


@pytest.mark.parametrize("job_type", RUNNABLE, ids=str)
def test_no_template_holds_a_script(job_type: model.JobType) -> None:
    # The work is code in agent/ (tested there); templates only assemble the pod.
    manifest = render_job(pipelinejob(job_type=job_type.value))
    pod = manifest["spec"]["template"]["spec"]
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        command = container.get("command") or []
        if job_type is model.JobType.CUSTOM:
            assert command == ["sh", "-c", "echo hi"]  # the user's own command
        else:
            assert command[0] in ("conveyor-agent", "buildctl-daemonless.sh", "./gradlew")
            assert not {"sh", "bash", "-c"} & {*command, *container.get("args", [])}
    if job_type is not model.JobType.CUSTOM:
        assert main_container(manifest)["command"] == ["conveyor-agent", job_type.value]


@pytest.mark.parametrize(
    ("job_type", "api"),
    [
        ("deploy", True),
        ("promote", True),
        ("clone-env", True),
        ("build", False),
        ("custom", False),
        ("ticket", False),
        ("canary-analysis", False),
        ("android-build", False),
        ("android-deploy", False),
    ],
)
def test_only_jobs_that_need_the_api_get_a_token(job_type: str, api: bool) -> None:
    # Said explicitly either way: the ServiceAccount's own default must not decide.
    pod = render_job(pipelinejob(job_type=job_type))["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is api


# -- secrets travel by reference only ---------------------------------------------------


@pytest.mark.parametrize(
    ("job_type", "params", "refs"),
    [
        (
            "build",
            {**PARAMS["build"], "gitSecret": {"name": "git"}, "pushSecret": {"name": "registry"}},
            {("git", "password"), ("registry", ".dockerconfigjson")},
        ),
        (
            "build",
            {
                **PARAMS["build"],
                "gitSecret": {"name": "git", "key": "token"},
                "pushSecret": {"name": "registry", "key": "config.json"},
            },
            {("git", "token"), ("registry", "config.json")},
        ),
        (
            "custom",
            {
                "image": "alpine:3.20",
                "env": [
                    {
                        "name": "API_TOKEN",
                        "valueFrom": {"secretKeyRef": {"name": "api", "key": "t"}},
                    }
                ],
            },
            {("api", "t")},
        ),
        ("ticket", PARAMS["ticket"], {("jira-bot", "username"), ("jira-bot", "password")}),
        (
            "ticket",
            {**PARAMS["ticket"], "credentialsSecret": {"name": "jira-bot", "key": "pat"}},
            {("jira-bot", "pat")},
        ),
        (
            "canary-analysis",
            {**PARAMS["canary-analysis"], "credentialsSecret": {"name": "prom"}},
            {("prom", "token")},
        ),
        (
            "android-build",
            {
                **PARAMS["android-build"],
                "signingSecret": {"name": "signing"},
                "gitSecret": {"name": "git", "key": "token"},
            },
            {
                ("signing", "storePassword"),
                ("signing", "keyAlias"),
                ("signing", "keyPassword"),
                ("signing", "keystore.jks"),
                ("git", "token"),
            },
        ),
        ("android-deploy", PARAMS["android-deploy"], {("play-publisher", "service-account.json")}),
        (
            "android-deploy",
            {
                "artifact": "a.apk",
                "store": "artifactory",
                "destination": "https://artifactory.example/r/",
                "credentialsSecret": {"name": "artifactory"},
            },
            {("artifactory", "username"), ("artifactory", "password")},
        ),
    ],
)
def test_secrets_are_only_referenced(
    job_type: str, params: dict[str, Any], refs: set[tuple[str, str]]
) -> None:
    manifest = render_job(pipelinejob(job_type=job_type, params=params))
    pod = manifest["spec"]["template"]["spec"]
    found = {
        (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for c in [*pod.get("initContainers", []), *pod["containers"]]
        for e in c.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    } | {
        (v["secret"]["secretName"], item["key"])
        for v in pod.get("volumes", [])
        if "secret" in v
        for item in v["secret"].get("items") or [{"key": "*"}]
    }
    assert found == refs
    # No credential is ever written as a literal value.
    literal = {e["name"] for c in pod["containers"] for e in c.get("env", []) if "value" in e}
    assert not {n for n in literal if n.endswith(("PASSWORD", "TOKEN", "USERNAME"))}


def test_no_secret_kind_or_data_in_the_manifest() -> None:
    params = {**PARAMS["build"], "gitSecret": {"name": "git"}, "pushSecret": {"name": "registry"}}
    text = yaml.safe_dump(render_job(pipelinejob(params=params)))
    assert "kind: Secret" not in text
    assert "stringData" not in text
    assert "\ndata:" not in text


# -- Worker and PipelineJob pod templates -------------------------------------------------

WORKER_TEMPLATE: dict[str, Any] = {
    "metadata": {
        "labels": {"team": "platform"},
        "annotations": {"sim.conveyor.dev/run-time": "5s", "owner": "worker"},
    },
    "spec": {
        "serviceAccountName": "builder",
        "nodeSelector": {"pool": "builds"},
        "containers": [
            {
                "name": "main",
                "image": "registry.example/tools/kaniko:1.23",
                "resources": {"requests": {"cpu": "2", "memory": "4Gi"}},
                "env": [
                    {"name": "GIT_PULL_METHOD", "value": "http"},
                    {"name": "HTTP_PROXY", "value": "proxy:3128"},
                ],
            }
        ],
    },
}


def test_worker_template_merges_into_the_pod() -> None:
    manifest = render_job(pipelinejob(), on=worker(template=WORKER_TEMPLATE))
    pod = manifest["spec"]["template"]
    main = main_container(manifest)

    assert pod["metadata"]["labels"]["team"] == "platform"
    assert pod["metadata"]["annotations"] == {"sim.conveyor.dev/run-time": "5s", "owner": "worker"}
    assert pod["spec"]["serviceAccountName"] == "builder"
    assert pod["spec"]["nodeSelector"] == {"pool": "builds"}
    # The Worker's image replaces the default one.
    assert main["image"] == "registry.example/tools/kaniko:1.23"
    assert main["resources"] == {"requests": {"cpu": "2", "memory": "4Gi"}}
    # Env merges by name: the Worker's value wins, new names are added, others stay.
    env = env_of(main)
    assert env["GIT_PULL_METHOD"] == "http"
    assert env["HTTP_PROXY"] == "proxy:3128"
    assert "BUILD_METADATA" in env
    # The command of the default template is kept.
    assert main["command"] == ["conveyor-agent", "build"]


def test_pod_template_of_the_job_wins_over_the_worker() -> None:
    pod_template = {
        "metadata": {
            "annotations": {"sim.conveyor.dev/run-time": "1s", "sim.conveyor.dev/exit-code": "1"}
        },
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "resources": {"limits": {"memory": "8Gi"}},
                    "env": [{"name": "HTTP_PROXY", "value": None}, {"name": "EXTRA", "value": "x"}],
                }
            ],
            "nodeSelector": {"pool": "fast"},
        },
    }
    job = pipelinejob(podTemplate=pod_template)
    manifest = render_job(job, on=worker(template=WORKER_TEMPLATE))
    pod = manifest["spec"]["template"]
    main = main_container(manifest)

    assert pod["metadata"]["annotations"] == {
        "sim.conveyor.dev/run-time": "1s",
        "sim.conveyor.dev/exit-code": "1",
        "owner": "worker",
    }
    assert pod["spec"]["nodeSelector"] == {"pool": "fast"}
    assert main["resources"] == {
        "requests": {"cpu": "2", "memory": "4Gi"},
        "limits": {"memory": "8Gi"},
    }
    env = main["env"]
    assert {"name": "EXTRA", "value": "x"} in env
    assert {"name": "HTTP_PROXY"} in env  # its value deleted by the job's null


def test_simulation_annotations_land_on_the_pod() -> None:
    annotations = {"sim.conveyor.dev/termination-message": '{"digest":"sha256:abc"}'}
    job = pipelinejob(job_type="deploy", podTemplate={"metadata": {"annotations": annotations}})
    manifest = render_job(job)
    assert manifest["spec"]["template"]["metadata"]["annotations"] == annotations


def test_rendering_changes_none_of_its_inputs() -> None:
    job = pipelinejob(
        podTemplate={"spec": {"containers": [{"name": "main", "env": [{"name": "A"}]}]}}
    )
    on = worker(template=WORKER_TEMPLATE)
    before = (copy.deepcopy(job.spec), copy.deepcopy(on.spec))
    manifest = render_job(job, on=on)
    manifest["spec"]["template"]["spec"]["containers"][0]["env"].clear()
    assert (job.spec, on.spec) == before


# -- fields the operator owns ------------------------------------------------------------

HOSTILE_JOB_TEMPLATE = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: something-else
  namespace: kube-system
  generateName: x-
  labels:
    conveyor.dev/pipelinejob: other
    conveyor.dev/attempt: "9"
    app.kubernetes.io/managed-by: me
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: x, uid: "1"}]
spec:
  backoffLimit: 6
  completions: 5
  parallelism: 5
  activeDeadlineSeconds: 99999
  template:
    metadata:
      labels: {conveyor.dev/worker: other}
    spec:
      restartPolicy: OnFailure
      containers:
        - name: main
          image: busybox:1.36
"""


@pytest.mark.parametrize(
    ("job_template_text", "pod_template"),
    [
        (HOSTILE_JOB_TEMPLATE, {}),
        (
            None,
            {
                "metadata": {
                    "labels": {"conveyor.dev/pipelinejob": "other", "conveyor.dev/attempt": "9"}
                },
            },
        ),
    ],
    ids=["worker jobTemplate", "job podTemplate"],
)
def test_operator_owned_fields_cannot_be_overridden(
    job_template_text: str | None, pod_template: dict[str, Any]
) -> None:
    spec = {} if job_template_text is None else {"jobTemplate": job_template_text}
    job = pipelinejob(timeout="10m", podTemplate=pod_template)
    manifest = render_job(job, on=worker(**spec), attempt=3)
    labels = {**OWNED_LABELS, "conveyor.dev/worker": "build"}

    assert manifest["metadata"]["name"] == "api-42-3"
    assert manifest["metadata"]["namespace"] == "team-a"
    assert "generateName" not in manifest["metadata"]
    assert "ownerReferences" not in manifest["metadata"]
    assert labels.items() <= manifest["metadata"]["labels"].items()
    assert manifest["spec"]["backoffLimit"] == 0
    assert manifest["spec"]["completions"] == 1
    assert manifest["spec"]["parallelism"] == 1
    assert manifest["spec"]["activeDeadlineSeconds"] == 600
    assert labels.items() <= manifest["spec"]["template"]["metadata"]["labels"].items()
    assert manifest["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_no_timeout_removes_a_templates_deadline() -> None:
    manifest = render_job(pipelinejob(), on=worker(jobTemplate=HOSTILE_JOB_TEMPLATE))
    assert "activeDeadlineSeconds" not in manifest["spec"]


# -- Worker job templates ----------------------------------------------------------------


def test_worker_job_template_replaces_the_default() -> None:
    text = job_template(
        "          args: [{{ job.params.image | toyaml }}, {{ worker.type | toyaml }}]\n"
        "          env: [{name: PRIORITY, value: {{ job.priority | string | toyaml }}}]\n"
    )
    job = pipelinejob(priority=7)
    main = main_container(render_job(job, on=worker(jobTemplate=text)))
    assert main["image"] == "busybox:1.36"
    assert main["args"] == ["registry.example/acme/api:1", "build"]
    assert main["env"] == [{"name": "PRIORITY", "value": "7"}]


def test_worker_job_template_may_use_the_shared_helpers() -> None:
    text = (
        '{% import "_helpers.yaml.j2" as h with context %}\n'
        "apiVersion: batch/v1\n"
        "kind: Job\n"
        "metadata: {{ h.metadata | toyaml }}\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      securityContext: {{ h.pod_security | toyaml }}\n"
        "      containers:\n"
        "        - name: main\n"
        "          image: busybox:1.36\n"
        '          env: [{{ h.secret_env("TOKEN", "api", "token") }}]\n'
    )
    manifest = render_job(pipelinejob(), on=worker(jobTemplate=text))
    assert manifest["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert main_container(manifest)["env"] == [
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}
    ]


# -- errors name the field at fault --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ ''.__class__.__mro__ }}", "__class__"),
        ("{{ job.__class__ }}", ""),
        ("{{ job.params.update({'x': 1}) }}", "update"),
        ("{{ cycler.__init__.__globals__ }}", ""),
        ("{{ 'a' * 100000000 }}", "too long"),
        ("{{ 2 ** 100000 }}", "too large"),
        ("{% for i in range(10**9) %}{% endfor %}", "range"),
        ('{% include "../model.py" %}', "no template named '../model.py'"),
        ('{% include "/etc/passwd" %}', "passwd"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", ""),
        ("{{ 1 / 0 }}", "division"),
    ],
)
def test_the_sandbox_blocks_unsafe_templates(text: str, message: str) -> None:
    with pytest.raises(render.RenderError) as caught:
        render_job(pipelinejob(), on=worker(jobTemplate=job_template("") + text))
    assert caught.value.field == "Worker.spec.jobTemplate"
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (job_template("          args: [{{ nope | toyaml }}]\n"), "line 10: 'nope' is undefined"),
        (job_template("          args: [{{ job.params.missing | toyaml }}]\n"), "line 10:"),
        (job_template("          args: [{{ job.params.missing }}]\n"), "missing"),
        (job_template("  {% if %}\n"), "line 10:"),
        (job_template("  {{ job.name\n"), "line 10:"),
        ("apiVersion: batch/v1\nkind: Job\nspec: [\n", "valid YAML"),
        ("apiVersion: v1\nkind: ConfigMap\n", "batch/v1 Job"),
        ("- a\n- b\n", "batch/v1 Job"),
        ("apiVersion: batch/v1\nkind: Job\nspec: {}\n", "spec.template"),
        (job_template("").replace("name: main", "name: worker"), "named main"),
        (job_template("").replace("image: busybox:1.36", "image: ''"), "no image"),
        (job_template("          args: &a [x]\n          command: *a\n"), "aliases"),
    ],
)
def test_worker_job_template_errors_name_the_field(text: str, message: str) -> None:
    with pytest.raises(render.RenderError) as caught:
        render_job(pipelinejob(), on=worker(jobTemplate=text))
    assert caught.value.field == "Worker.spec.jobTemplate"
    assert message in caught.value.message


def test_default_template_missing_a_param_names_the_params() -> None:
    with pytest.raises(render.RenderError) as caught:
        render_job(pipelinejob(params={"image": "registry.example/acme/api:1"}))
    assert caught.value.field == "spec.params"
    assert caught.value.message.startswith("build.yaml.j2 line ")
    assert "'repository'" in caught.value.message


@pytest.mark.parametrize(
    ("job", "on", "field"),
    [
        (pipelinejob(job_type="delay", params={"duration": "5s"}), worker(), "spec.type"),
        (pipelinejob(job_type="deploy"), worker(worker_type="build"), "spec.worker"),
        (pipelinejob(name="x" * 62), worker(), "metadata.name"),
        (pipelinejob(job_type="nonsense"), worker(), "spec.type"),
        (pipelinejob(), worker(concurrency=-1), "Worker.spec.concurrency"),
        (pipelinejob(podTemplate={"containers": []}), worker(), "spec.podTemplate.containers"),
        (
            pipelinejob(podTemplate={"metadata": {"name": "x"}}),
            worker(),
            "spec.podTemplate.metadata.name",
        ),
        (
            pipelinejob(
                podTemplate={"metadata": {"annotations": {"sim.conveyor.dev/exit-code": 1}}}
            ),
            worker(),
            "spec.podTemplate.metadata.annotations.sim.conveyor.dev/exit-code",
        ),
        (
            pipelinejob(podTemplate={"metadata": {"labels": ["a"]}}),
            worker(),
            "spec.podTemplate.metadata.labels",
        ),
        (pipelinejob(podTemplate={"spec": "x"}), worker(), "spec.podTemplate.spec"),
        (pipelinejob(podTemplate={"spec": {"containers": None}}), worker(), "spec.podTemplate"),
        (
            pipelinejob(),
            worker(template={"spec": {"containers": [{"image": "x"}]}}),
            "Worker.spec.template",
        ),
        (
            pipelinejob(),
            worker(template={"spec": {"containers": [{"name": "main", "image": None}]}}),
            "Worker.spec.template",
        ),
    ],
    ids=[
        "delay has no Job",
        "worker of another type",
        "name too long",
        "invalid spec",
        "invalid worker",
        "containers at the top",
        "pod name",
        "annotation not a string",
        "labels not an object",
        "spec not an object",
        "containers deleted",
        "unnamed container",
        "image deleted",
    ],
)
def test_errors_name_the_field(job: model.PipelineJob, on: model.Worker, field: str) -> None:
    with pytest.raises(render.RenderError) as caught:
        render.render_job(job=job, worker=on, attempt=1, params=job.spec.params if job.spec else {})
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="attempt"):
        render_job(pipelinejob(), attempt=0)


# -- user text stays text ---------------------------------------------------------------------

TRICKY = [
    "foo\nbar: baz",
    "{{ x }}",
    "{% if true %}x{% endif %}",
    '"]}, {"name": "EVIL", "value": "1',
    "- a\n- b",
    "*alias",
    "&anchor x",
    "!!python/object:os.system",
    "yes",
    "null",
    "1e3",
    "0x1F",
    "",
    " leading and trailing ",
    "tab\there",
    "back\\slash \\u0041",
    "quote ' and \"",
    "# comment",
    "key: value # c",
    "emoji 🚀 and ümlaut",
    "nel\x85 ls\u2028 ps\u2029 del\x7f bell\x07",
]


@pytest.mark.parametrize("text", TRICKY)
def test_params_cannot_inject_yaml(text: str) -> None:
    params = {**PARAMS["build"], "revision": text, "buildArgs": {"NOTE": text}}
    manifest = render_job(pipelinejob(params=params))
    build = build_container(manifest)
    assert f"--opt=build-arg:NOTE={text}" in build["args"]
    assert f"--opt=context=https://github.com/acme/api.git#{text or 'main'}" in build["args"]
    assert [v["name"] for v in build["env"]] == ["BUILDKITD_FLAGS", "DOCKER_CONFIG"]

    ticket = {**PARAMS["ticket"], "summary": text or "x", "description": text}
    main = main_container(render_job(pipelinejob(job_type="ticket", params=ticket)))
    assert env_of(main)["PARAMS"] == sandbox.to_json(ticket)

    custom = {"image": "alpine:3.20", "args": [text], "env": {"NOTE": text}}
    main = main_container(render_job(pipelinejob(job_type="custom", params=custom)))
    assert main["args"] == [text]
    assert main["env"] == [{"name": "NOTE", "value": text}]


@pytest.mark.parametrize(
    "value",
    [
        *TRICKY,
        None,
        True,
        False,
        0,
        -7,
        2**70,
        1.5,
        -0.25,
        1e20,
        1e-5,
        1.5e300,
        5e-324,
        [],
        {},
        [1, "a", None],
        {"a": {"b": [True, {"c": "d\ne"}]}},
        {"1": 2, "": "empty key"},
    ],
)
def test_to_yaml_round_trips(value: Any) -> None:
    text = sandbox.to_yaml(value)
    assert "\n" not in text
    assert yaml.safe_load(f"key: {text}\n") == {"key": value}
    assert yaml.safe_load(f"- {text}\n") == [value]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object(), {1, 2}])
def test_to_yaml_refuses_what_a_manifest_cannot_hold(value: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        sandbox.to_yaml(value)


def test_a_param_that_is_not_json_fails_the_render() -> None:
    # Anything a filter raises ends as a RenderError, never an exception of its own.
    params = {"image": "alpine:3.20", "args": [{1, 2}]}
    with pytest.raises(render.RenderError) as caught:
        render.render_job(
            job=pipelinejob(job_type="custom", params={"image": "alpine:3.20"}),
            worker=worker(),
            attempt=1,
            params=params,
        )
    assert caught.value.field == "templates/build.yaml.j2"
    assert "set" in caught.value.message


# -- pod policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pod_template", "field"),
    [
        ({"spec": {"hostNetwork": True}}, "spec.podTemplate.spec.hostNetwork"),
        (
            {"spec": {"containers": [{"name": "main", "securityContext": {"privileged": True}}]}},
            "spec.podTemplate.spec.containers[0].securityContext",
        ),
        ({"spec": {"serviceAccountName": "admin"}}, "spec.podTemplate.spec.serviceAccountName"),
    ],
)
def test_a_job_cannot_ask_for_what_only_the_worker_sets(
    pod_template: dict[str, Any], field: str
) -> None:
    with pytest.raises(render.RenderError) as caught:
        render_job(pipelinejob(podTemplate=pod_template))
    assert caught.value.field == field
    assert caught.value.message.startswith("set by the Worker only")


def test_the_worker_may_set_what_a_job_may_not() -> None:
    template = {"spec": {"hostNetwork": True, "serviceAccountName": "builder"}}
    pod = render_job(pipelinejob(), on=worker(template=template))["spec"]["template"]
    assert (pod["spec"]["hostNetwork"], pod["spec"]["serviceAccountName"]) == (True, "builder")


def test_a_job_manifest_over_the_size_budget_names_the_worker_field() -> None:
    text = job_template("          env: [{name: BIG, value: {{ ('x' * 99999) | toyaml }}}]\n")
    text += "          args:\n" + "            - {{ ('y' * 99999) | toyaml }}\n" * 10
    with pytest.raises(render.RenderError) as caught:
        render_job(pipelinejob(), on=worker(jobTemplate=text))
    assert caught.value.field == "Worker.spec.jobTemplate"
    assert "prints more than 1024 KiB" in caught.value.message


def test_a_deploy_without_target_namespace_deploys_to_the_jobs_namespace() -> None:
    given = {k: v for k, v in PARAMS["deploy"].items() if k != "targetNamespace"}
    job = pipelinejob(job_type="deploy", params=given)
    manifest = render.attempt_manifest(job=job, worker=worker(worker_type="deploy"), attempt=1)
    assert isinstance(manifest, dict)
    assert "team-a" in str(manifest["spec"]["template"]["spec"])


@pytest.mark.parametrize(
    ("job", "worker", "field"),
    [
        # The job set a podTemplate: the refusal may be its own doing.
        (
            b.pipelinejob().spec({"podTemplate": {"metadata": {"labels": {"a": "b"}}}}),
            b.worker(),
            "spec.podTemplate",
        ),
        # It set none: the pod is all the Worker's, never blame the job's field.
        (b.pipelinejob(), b.worker(), "Worker.spec.template"),
        (b.pipelinejob(), b.worker().job_template("kind: Job"), "Worker.spec.jobTemplate"),
        # A name made before the CRD bound it, too long for a label value.
        (b.pipelinejob(), b.worker("w" * 253), "Worker.metadata.name"),
    ],
)
def test_a_refused_job_blames_the_field_that_made_it(job: Any, worker: Any, field: str) -> None:
    assert render.refused_field(job=job.model(), worker=worker.model()) == field
