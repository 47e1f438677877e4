"""The archive on the local control plane, with the operator running, on
SQLite and on a real PostgreSQL server: a job deleted by its
ttlAfterFinished stays in the archive, and a recorder killed with SIGKILL
mid-stream loses no record once it runs again (its first listing catches up,
and counts what it caught up)."""

from __future__ import annotations

import asyncio
import collections.abc
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from tests.archive import postgres

from conveyor.archive import store, url
from e2e.tests import cluster as clusters
from e2e.tests import kube
from e2e.tests.conftest import OperatorProcess, _free_port
from tests import builders

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def postgres_server() -> collections.abc.Iterator[postgres.Server]:
    with postgres.running() as server:
        yield server


class Target:
    """An archive URL and how to open it."""

    def __init__(self, *, text: str, password_file: str | None = None) -> None:
        self.text = text
        self.password_file = password_file

    def args(self) -> list[str]:
        extra = ["--archive-password-file", self.password_file] if self.password_file else []
        return ["--archive", self.text, *extra]

    def open(self) -> store.Archive:
        return store.Archive(url=url.parse(self.text, password_file=self.password_file))


@pytest.fixture(params=["sqlite", "postgresql"])
def target(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path
) -> collections.abc.Iterator[Target]:
    if request.param == "sqlite":
        yield Target(text=f"sqlite:///{tmp_path}/history.db")
        return
    server: postgres.Server = request.getfixturevalue("postgres_server")
    found = Target(text=server.url, password_file=server.password_file())
    yield found
    archive = found.open()
    with archive.engine.begin() as connection:  # the next test starts empty
        connection.execute(store.L.delete())
        connection.execute(store.R.delete())
    archive.close()


class Recorder:
    """`conveyor archive` as users run it, in its own process."""

    def __init__(
        self, *, cluster: clusters.Cluster, target: Target, namespace: str, log: pathlib.Path
    ) -> None:
        self.cluster = cluster
        self.target = target
        self.namespace = namespace
        self.log = log
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [sys.executable, "-m", "conveyor.cli.main", "archive", *self.target.args()]
        args += ["--namespace", self.namespace, "--metrics-port", str(self.port)]
        env = {**os.environ, "KUBECONFIG": str(self.cluster.kubeconfig), "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.metrics()
                return
            except OSError:
                assert self.process.poll() is None, self.log.read_text()
                time.sleep(0.2)
        raise AssertionError(f"conveyor archive did not come up; log: {self.log.read_text()}")

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2) as r:
            return str(r.read().decode())

    def caught_up(self) -> float:
        match = re.search(
            r'^conveyor_archive_caught_up_total\{kind="PipelineJob"\} (\S+)$', self.metrics(), re.M
        )
        return float(match[1]) if match else 0.0

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.fixture
def recorder(
    cluster: clusters.Cluster, target: Target, namespace: str, tmp_path: pathlib.Path
) -> collections.abc.Iterator[Recorder]:
    r = Recorder(cluster=cluster, target=target, namespace=namespace, log=tmp_path / "archive.log")
    yield r
    r.stop()


def archived(target: Target, namespace: str) -> dict[str, str]:
    archive = target.open()
    try:
        return {r.name: r.state for r in archive.all(where=store.Filter(namespace=namespace))}
    except Exception:  # not created yet
        return {}
    finally:
        archive.close()


async def test_a_job_deleted_by_its_ttl_stays_in_the_archive(
    operator: OperatorProcess, k: kube.Kube, recorder: Recorder, target: Target
) -> None:
    recorder.start()
    await k.create(builders.worker("build").obj())
    job = (
        builders.pipelinejob("short-lived")
        .ttl("2s")
        .labels({"conveyor.dev/service": "api"})
        .sim(message='{"digest": "sha256:1234"}')
        .obj()
    )
    job["spec"]["podTemplate"]["spec"] = {
        "containers": [{"name": "main", "env": [{"name": "API_KEY", "value": "s3cr3t-value"}]}]
    }
    await k.create(job)
    # Not polled for SUCCESS: on a loaded machine the 2 s may pass between two
    # polls. The deletion comes only after it finished; the archive has the rest.
    await k.wait_gone(kube.PJ, "short-lived", timeout=90)

    await k.wait_for("the record", lambda: _async(archived(target, k.namespace)), timeout=10)
    archive = target.open()
    [r] = list(archive.all(where=store.Filter(namespace=k.namespace)))
    archive.close()
    assert (r.name, r.state, r.type, r.worker) == ("short-lived", "SUCCESS", "custom", "build")
    assert r.labels["conveyor.dev/service"] == "api"
    assert r.summary["status"]["outputs"] == {"digest": "sha256:1234"}
    assert "s3cr3t-value" not in repr(r.summary)
    assert (r.duration or 0) > 0

    shown = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "conveyor.cli.main", "history", *target.args(), "-n", k.namespace],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "KUBECONFIG": "/nonexistent"},  # the archive alone answers
    )
    assert shown.stdout.splitlines()[1].split()[:4] == ["short-lived", "custom", "build", "SUCCESS"]


async def _async(value: object) -> object:
    return value


async def test_a_recorder_killed_mid_stream_loses_no_record(
    operator: OperatorProcess, k: kube.Kube, recorder: Recorder, target: Target
) -> None:
    jobs = 12
    recorder.start()
    await k.create(builders.worker("build").concurrency(jobs).obj())
    for n in range(jobs):  # finishing one after another, 1s apart
        await k.create(builders.pipelinejob(f"job-{n}").sim(run_time=f"{1 + n}s").obj())

    async def some() -> bool:
        return len(archived(target, k.namespace)) >= 3

    await k.wait_for("the first records", some, timeout=60)
    recorder.kill()  # SIGKILL: whatever was queued in memory is gone
    at_kill = len(archived(target, k.namespace))
    assert at_kill < jobs, "the recorder should die mid-stream"
    for n in range(jobs):
        await k.wait_state(f"job-{n}", "SUCCESS", timeout=90)

    recorder.start()

    async def everything() -> bool:
        return len(archived(target, k.namespace)) == jobs

    await k.wait_for("every record", everything, timeout=30)
    assert set(archived(target, k.namespace).values()) == {"SUCCESS"}
    assert recorder.caught_up() == jobs - at_kill
    assert re.search(rf"caught up {jobs - at_kill} PipelineJob record", recorder.log.read_text())


async def test_insights_without_an_archive_read_the_live_api(
    operator: OperatorProcess, k: kube.Kube, cluster: clusters.Cluster
) -> None:
    await k.create(builders.worker("deploy").type("deploy").obj())
    labels = {"conveyor.dev/service": "api", "conveyor.dev/environment": "prod"}
    await k.create(builders.pipelinejob("api-deploy-1").type("deploy").labels(labels).obj())
    await k.create(
        builders.pipelinejob("api-deploy-2").type("deploy").labels(labels).sim(exit_code=1).obj()
    )
    await k.wait_state("api-deploy-1", "SUCCESS")
    await k.wait_state("api-deploy-2", "FAILED")

    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "conveyor.cli.main", "insights", "-n", k.namespace, "-o", "json"),
        env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    [group] = json.loads(out)["groups"]
    assert (group["service"], group["environment"]) == ("api", "prod")
    assert (group["deploys"], group["successful"], group["failed"]) == (2, 1, 1)
    assert group["changeFailureRate"] == 0.5


async def test_the_dashboard_records_and_shows_what_the_api_deleted(
    operator: OperatorProcess, k: kube.Kube, cluster: clusters.Cluster, tmp_path: pathlib.Path
) -> None:
    target = Target(text=f"sqlite:///{tmp_path}/history.db")
    port, metrics_port = _free_port(), _free_port()
    args = [sys.executable, "-m", "conveyor.cli.main", "dashboard", *target.args()]
    args += ["-n", k.namespace, "--port", str(port), "--metrics-port", str(metrics_port)]
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "dashboard.log"
    dashboard = _start(args, env=env, log=log)
    try:

        async def up() -> bool:
            try:
                await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/healthz")
            except OSError:
                assert dashboard.poll() is None, log.read_text()
                return False
            return True

        await k.wait_for("the dashboard", up, timeout=60)
        await k.create(builders.worker("build").obj())
        await k.create(builders.pipelinejob("fleeting").ttl("2s").obj())
        await k.wait_gone(kube.PJ, "fleeting", timeout=90)  # after it finished

        async def shown() -> bool:
            page = await asyncio.to_thread(
                _get, f"http://127.0.0.1:{port}/history?namespace={k.namespace}"
            )
            return "fleeting" in page

        await k.wait_for("the deleted job on the history page", shown, timeout=30)
        assert archived(target, k.namespace) == {"fleeting": "SUCCESS"}
        gauges = await asyncio.to_thread(_get, f"http://127.0.0.1:{metrics_port}/metrics")
        assert 'conveyor_archive_records_total{kind="PipelineJob"} 1.0' in gauges
    finally:
        dashboard.send_signal(signal.SIGTERM)
        dashboard.wait(timeout=30)


def _start(args: list[str], *, env: dict[str, str], log: pathlib.Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)


def _get(address: str) -> str:
    with urllib.request.urlopen(address, timeout=5) as response:
        return str(response.read().decode())
