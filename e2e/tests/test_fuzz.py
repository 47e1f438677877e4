"""Fuzz, end to end: hostile and careless objects of every kind go through the
real API server to a running operator. The operator must never exit or log
a traceback; every object ends refused at apply, FAILED/InvalidSpec naming
a field, or in a state of its kind; and a canary job in another namespace
keeps its normal latency.

A fixed corpus (the cases of issue 11) runs every time; then hypothesis
draws FUZZ_EXAMPLES more, derandomized (the same ones on every run, so a
failure reproduces), without shrinking: the whole file stays within a few
minutes on a loaded machine. CONVEYOR_FUZZ_EXAMPLES raises the count.
PipelineRuns are not executed by this operator yet: for them, refused at
apply or accepted without a crash.
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st

from e2e.tests import cluster as clusters
from e2e.tests import conftest
from tests import builders

pytestmark = [pytest.mark.e2e]

FUZZ_EXAMPLES = int(os.environ.get("CONVEYOR_FUZZ_EXAMPLES", "40"))
GROUP = "conveyor.dev/v1alpha1"
STATES = {"IN-QUEUE", "RUNNING", "SUCCESS", "FAILED", "REVOKED"}
WORKER_STATES = {"ONLINE", "DEGRADED", "OFFLINE", "PAUSED"}
FIELD_HEADS = ("spec", "metadata", "Worker.")
SETTLE = 90.0  # seconds for every accepted PipelineJob to get a status


def deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


def job(name: str, **spec: Any) -> dict[str, Any]:
    body = {"type": "custom", "params": {"image": "busybox:1.36"}, "worker": "build", **spec}
    return {"apiVersion": GROUP, "kind": "PipelineJob", "metadata": {"name": name}, "spec": body}


def worker(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": GROUP,
        "kind": "Worker",
        "metadata": {"name": name},
        "spec": {"type": "build", "concurrency": 1, **spec},
    }


def cron(name: str, **spec: Any) -> dict[str, Any]:
    body = {"schedule": "* * * * *", "jobTemplate": {"spec": {"type": "custom"}}, **spec}
    return {
        "apiVersion": GROUP,
        "kind": "PipelineCronJob",
        "metadata": {"name": name},
        "spec": body,
    }


BOMB = "{% for i in range(100000) %}{% for j in range(1500) %}{% endfor %}{% endfor %}"
CORPUS: list[dict[str, Any]] = [
    job("c-deep-params", params={"image": "busybox:1.36", "x": deep(300)}),
    job("c-deep-pod", podTemplate={"spec": deep(40)}),
    job("c-long-field", params={"image": "busybox:1.36", "x": "y" * 40_000}),
    job("c-start-at", startAt="9999-12-31T23:59:59-12:00"),
    job("c-ttl", ttlAfterFinished="99999999h"),
    job("c-delay", type="delay", params={"duration": "99999999h"}),
    job("c-privileged", podTemplate={"spec": {"hostPID": True}}),
    job("c-url", type="build", params={"repository": "not a url", "image": "x"}),
    job("c-unicode", params={"image": "busybox:1.36", "ünï": "💥" * 500}),
    job("c-huge-number", params={"image": "busybox:1.36", "n": 10**300}),
    worker("c-bomb", jobTemplate=BOMB),
    worker("c-center", jobTemplate="{{ 'x' | center(20000000) }}"),
    worker("c-format", jobTemplate="{{ '%20000000s' % 'x' }}"),
    worker("w" * 253),
    worker("c-concurrency", concurrency=10**18),
    cron("c-fine", jobTemplate={"spec": {"type": "custom", "params": {"image": "busybox:1.36"}}}),
    cron("c-descending", schedule="1-0 * * * *"),
    cron("c-localtime", timeZone="localtime"),
    cron(
        "c-stuck-child", jobTemplate={"spec": {"type": "custom", "ttlAfterFinished": "99999999h"}}
    ),
    # Jobs for the hostile Workers: they must wait (OFFLINE) or fail alone.
    job("c-on-bomb", worker="c-bomb"),
    job("c-on-center", worker="c-center"),
]

# --- what hypothesis draws ------------------------------------------------------

names = st.from_regex(r"\A[a-z][a-z0-9-]{0,20}[a-z0-9]\Z").map(lambda n: f"f-{n}")
texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=5000),
    st.sampled_from(["", " ", "{{", "{% raw %}", "\x00", "-1", "1e999", "9999-12-31T23:59:59Z"]),
)
numbers = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -1, 2**31, 2**53 + 1, 10**30]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(st.text(min_size=1, max_size=12), children, max_size=6),
    ),
    max_leaves=30,
)
durations = st.one_of(
    st.sampled_from(["1s", "99999999h", "-5m", "1h30m", "0s", "P1D", "1.5h", "87600h"]), texts
)
dates = st.one_of(
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00", "yesterday"]),
)
templates = st.one_of(
    st.sampled_from(
        [
            BOMB,
            "{{ ''.join(['x'] * 100000) * 100 }}",
            "{{ range(10**9) | list }}",
            "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
            "{{ self.__init__.__globals__ }}",
            "{{ cycler.__init__.__globals__.os }}",
            "apiVersion: batch/v1\nkind: Job\n" + "a: &a [" + "*a," * 50 + "]",
            "{{ 1 / 0 }}",
            "{% for x in params %}{{ x }}{% endfor %}",
        ]
    ),
    texts,
)
types = st.sampled_from(["build", "custom", "deploy", "delay", "ticket", "clone-env", "x", ""])


@st.composite
def pipelinejobs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": draw(types), "worker": draw(st.sampled_from(["build", "f"]))}
    optional = {
        "params": json_values,
        "podTemplate": json_values,
        "startAt": dates,
        "ttlAfterFinished": durations,
        "timeout": durations,
        "retry": json_values,
        "priority": numbers,
    }
    for field, strategy in optional.items():
        if draw(st.booleans()):
            spec[field] = draw(strategy)
    return {
        "apiVersion": GROUP,
        "kind": "PipelineJob",
        "metadata": {"name": draw(names)},
        "spec": spec,
    }


@st.composite
def workers(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": draw(types), "concurrency": draw(numbers)}
    if draw(st.booleans()):
        spec["jobTemplate"] = draw(templates)
    if draw(st.booleans()):
        spec["template"] = draw(json_values)
    return {"apiVersion": GROUP, "kind": "Worker", "metadata": {"name": draw(names)}, "spec": spec}


@st.composite
def cronjobs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "schedule": draw(
            st.one_of(st.sampled_from(["* * * * *", "1-0 * * * *", "@yearly"]), texts)
        ),
        "jobTemplate": {"spec": {"type": draw(types), "params": draw(json_values)}},
    }
    if draw(st.booleans()):
        spec["timeZone"] = draw(st.one_of(st.sampled_from(["UTC", "Local", "Mars/Base"]), texts))
    return {
        "apiVersion": GROUP,
        "kind": "PipelineCronJob",
        "metadata": {"name": draw(names)},
        "spec": spec,
    }


@st.composite
def pipelineruns(draw: st.DrawFn) -> dict[str, Any]:
    spec = draw(st.dictionaries(st.sampled_from(["pipeline", "params", "tasks", "x"]), json_values))
    return {
        "apiVersion": GROUP,
        "kind": "PipelineRun",
        "metadata": {"name": draw(names)},
        "spec": spec,
    }


objects = st.one_of(pipelinejobs(), workers(), cronjobs(), pipelineruns())

# --- running it -------------------------------------------------------------------


@pytest.fixture
def namespaces(cluster: clusters.Cluster) -> Iterator[tuple[str, str]]:
    made = (f"fuzz-{secrets.token_hex(4)}", f"fuzz-{secrets.token_hex(4)}")
    for name in made:
        cluster.kubectl("create", "namespace", name)
    try:
        yield made
    finally:
        for name in made:
            cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def apply(cluster: clusters.Cluster, namespace: str, body: dict[str, Any]) -> bool:
    """Create `body`; False when the API server refuses it (a fine outcome)."""
    try:
        text = json.dumps(body)
    except (ValueError, RecursionError):
        return False
    result = subprocess.run(
        [
            *(str(clusters.CLUSTER_BIN), "kubectl", "--kubeconfig", str(cluster.kubeconfig)),
            *("create", "-n", namespace, "-f", "-"),
        ],
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode == 0


def statuses(cluster: clusters.Cluster, namespace: str, plural: str) -> dict[str, dict[str, Any]]:
    listed = json.loads(cluster.kubectl("get", plural, "-n", namespace, "-o", "json"))
    return {o["metadata"]["name"]: o.get("status") or {} for o in listed["items"]}


def canary(cluster: clusters.Cluster, namespace: str, name: str) -> float:
    started = time.monotonic()
    cluster.kubectl(
        "create", "-n", namespace, "-f", "-", input=json.dumps(builders.pipelinejob(name).obj())
    )
    deadline = started + 180
    while time.monotonic() < deadline:
        if statuses(cluster, namespace, "pipelinejobs").get(name, {}).get("state") == "SUCCESS":
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"the canary {name} did not succeed in 180s")


def judge(status: dict[str, Any]) -> str | None:
    """Why a PipelineJob's status is not a sensible end, or None."""
    state = status.get("state")
    if state not in STATES:
        return f"no state: {status}"
    if status.get("reason") == "InvalidSpec":
        message = status.get("message") or ""
        if not message.startswith(FIELD_HEADS):
            return f"InvalidSpec without a field named: {message[:200]}"
    return None


@pytest.mark.usefixtures("crds")
def test_hostile_objects_harm_no_one(
    cluster: clusters.Cluster, namespaces: tuple[str, str], tmp_path: pathlib.Path
) -> None:
    fuzz_ns, canary_ns = namespaces
    own = conftest.OperatorProcess(
        kubeconfig=cluster.kubeconfig, namespaces=list(namespaces), log=tmp_path / "operator.log"
    )
    own.start()
    try:
        own.wait_ready()
        cluster.kubectl(
            "create",
            "-n",
            canary_ns,
            "-f",
            "-",
            input=json.dumps(builders.worker("build").concurrency(4).obj()),
        )
        for body in (worker("build", concurrency=4), worker("f", type="build")):
            apply(cluster, fuzz_ns, body)
        baseline = canary(cluster, canary_ns, "before")

        accepted: dict[str, list[str]] = {}
        for body in CORPUS:
            if apply(cluster, fuzz_ns, body):
                accepted.setdefault(body["kind"], []).append(body["metadata"]["name"])

        @hypothesis.settings(
            max_examples=FUZZ_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        @hypothesis.given(body=objects)
        def send(body: dict[str, Any]) -> None:
            if apply(cluster, fuzz_ns, body):
                accepted.setdefault(body["kind"], []).append(body["metadata"]["name"])
            assert own.alive(), f"the operator exited; log: {own.log}"

        send()
        during = canary(cluster, canary_ns, "during")
        print(f"\naccepted: { {k: len(v) for k, v in accepted.items()} }")
        print(f"canary latency: before {baseline:.2f}s, during {during:.2f}s")

        deadline = time.monotonic() + SETTLE
        wrong: dict[str, str] = {}
        while time.monotonic() < deadline:
            seen = statuses(cluster, fuzz_ns, "pipelinejobs")
            wrong = {
                n: why
                for n in accepted.get("PipelineJob", [])
                if n in seen and (why := judge(seen[n])) is not None
            }
            seen_workers = statuses(cluster, fuzz_ns, "workers")
            wrong.update(
                {
                    f"Worker {n}": f"no state: {seen_workers.get(n)}"
                    for n in accepted.get("Worker", [])
                    if (seen_workers.get(n) or {}).get("state") not in WORKER_STATES
                }
            )
            if not wrong:
                break
            time.sleep(2)
        assert not wrong, wrong
        # The corpus's CPU bomb: its Worker OFFLINE, its job waiting, not failing.
        bomb = statuses(cluster, fuzz_ns, "workers")["c-bomb"]
        assert (bomb["state"], bomb["reason"]) == ("OFFLINE", "InvalidTemplate"), bomb
        waiting = statuses(cluster, fuzz_ns, "pipelinejobs")["c-on-bomb"]
        assert (waiting["state"], waiting["reason"]) == ("IN-QUEUE", "WorkerOffline"), waiting
        assert own.alive()
        log = own.log.read_text()
        assert "Traceback" not in log, log[
            log.index("Traceback") - 2000 : log.index("Traceback") + 3000
        ]
        assert during < baseline + 15.0, (baseline, during)
    finally:
        own.stop()
