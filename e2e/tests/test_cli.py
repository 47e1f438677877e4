"""End to end: the `conveyor` CLI as users run it (a real subprocess), against
the cluster and the session's operator; its output is checked as text."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import pathlib
import signal
import socket
import sys

import pytest
import yaml

from e2e.tests import cluster as clusters
from e2e.tests import kube
from tests import builders

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]

TIMEOUT = 90.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class Result:
    code: int
    out: str
    err: str

    def table(self) -> dict[str, dict[str, str]]:
        """A table's rows by their first cell, each as {HEADER: cell} (cells have no spaces)."""
        header, *lines = self.out.splitlines()
        names = header.split()
        rows = {}
        for line in lines:
            cells = line.split(maxsplit=len(names) - 1)
            rows[cells[0]] = dict(zip(names, cells, strict=True))
        return rows


def _env(kubeconfig: str | pathlib.Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "NO_COLOR")}
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    return env


async def conveyor(
    cluster: clusters.Cluster, *args: str, kubeconfig: str | pathlib.Path | None = None
) -> Result:
    """Run `conveyor ARGS` with the cluster's kubeconfig (or the one given)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "conveyor.cli.main",
        *args,
        env=_env(kubeconfig or cluster.kubeconfig),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=TIMEOUT)
    assert process.returncode is not None
    result = Result(code=process.returncode, out=out.decode(), err=err.decode())
    assert "Traceback" not in result.err, result.err
    return result


async def full_worker(k: kube.Kube) -> None:
    """Worker build with one slot, held by `hold` (30s); `waiting` queued behind it."""
    await k.queue_behind_full_worker(holder="hold", waiting="waiting", run_time="30s")


async def test_get_lists_jobs_with_state_and_queue_position(
    k: kube.Kube, cluster: clusters.Cluster, namespace: str
) -> None:
    await full_worker(k)
    # Created within the same second as `waiting`, so after it by name.
    await k.create(builders.pipelinejob("waiting-2").obj())
    await k.wait_state("waiting-2", "IN-QUEUE", reason="ConcurrencyLimit")

    result = await conveyor(cluster, "get", "-n", namespace)

    assert result.code == 0, result.err
    rows = result.table()
    assert list(rows) == ["hold", "waiting", "waiting-2"]
    hold, waiting = rows["hold"], rows["waiting"]
    assert (hold["STATE"], hold["WORKER"], hold["ATTEMPT"], hold["QUEUE"]) == (
        "RUNNING",
        "build",
        "1",
        "-",
    )
    assert (waiting["STATE"], waiting["REASON"], waiting["QUEUE"]) == (
        "IN-QUEUE",
        "ConcurrencyLimit",
        "1/2",
    )
    assert rows["waiting-2"]["QUEUE"] == "2/2"
    assert "\x1b[" not in result.out  # no colour into a pipe

    everywhere = await conveyor(cluster, "get", "-A")
    assert any(line.startswith(f"{namespace} ") for line in everywhere.out.splitlines())


async def test_get_as_json_and_yaml(
    k: kube.Kube, cluster: clusters.Cluster, namespace: str
) -> None:
    """-o json and yaml print the objects, as kubectl does; the computed
    columns (queue position) are the table's, -o wide adds more."""
    await full_worker(k)

    as_json = json.loads((await conveyor(cluster, "get", "-n", namespace, "-o", "json")).out)
    as_yaml = yaml.safe_load((await conveyor(cluster, "get", "-n", namespace, "-o", "yaml")).out)
    one = json.loads((await conveyor(cluster, "get", "hold", "-n", namespace, "-o", "json")).out)
    wide = (await conveyor(cluster, "get", "-n", namespace, "-o", "wide")).out.splitlines()

    assert as_json["kind"] == "List"
    by_name = {item["metadata"]["name"]: item for item in as_json["items"]}
    assert by_name["hold"]["status"]["state"] == "RUNNING"
    assert by_name["waiting"]["status"]["reason"] == "ConcurrencyLimit"
    assert [item["metadata"]["name"] for item in as_yaml["items"]] == ["hold", "waiting"]
    assert (one["kind"], one["metadata"]["name"]) == ("PipelineJob", "hold")
    assert wide[0].split()[-2:] == ["JOB", "MESSAGE"]
    assert wide[1].split()[:2] == ["hold", "RUNNING"]
    assert "hold-1" in wide[1].split()


async def test_why_names_the_holder_and_the_position(
    k: kube.Kube, cluster: clusters.Cluster, namespace: str
) -> None:
    await full_worker(k)

    result = await conveyor(cluster, "why", "waiting", "-n", namespace)

    assert result.code == 0, result.err
    text = result.out
    assert text.startswith(f"pipelinejob {namespace}/waiting: IN-QUEUE (ConcurrencyLimit)\n")
    assert "waiting for a free slot on Worker build" in text
    assert "position 1 of 1 in the queue of Worker build" in text
    assert "1 of 1 busy, held by hold (running for" in text
    assert "build (type build, concurrency 1): ONLINE" in text
    assert "Events" not in text  # a waiting job has none: the status says why it waits
    assert f"kubectl patch wk build -n {namespace} --type merge" in text

    data = json.loads(
        (await conveyor(cluster, "why", "waiting", "-n", namespace, "-o", "json")).out
    )
    assert data["reason"] == "ConcurrencyLimit"
    assert any("position 1 of 1" in f["text"] for f in data["facts"])


async def test_why_a_pod_cannot_start_names_the_fix(
    k: kube.Kube, cluster: clusters.Cluster, namespace: str
) -> None:
    image = {"spec": {"containers": [{"name": "main", "image": "unpullable.invalid/nope:1"}]}}
    await k.create(builders.worker("build").template(image).obj())
    await k.create(builders.pipelinejob("stuck").obj())

    async def pull_error() -> bool:
        st = (await k.pj("stuck")).get("status") or {}
        return st.get("reason") == "Starting" and "ImagePullBackOff" in st.get("message", "")

    await k.wait_for("stuck Starting with ImagePullBackOff", pull_error, timeout=TIMEOUT)
    result = await conveyor(cluster, "why", "stuck", "-n", namespace)

    assert result.code == 0, result.err
    assert "ImagePullBackOff" in result.out
    assert "fix the image in the Worker build template" in result.out


async def test_workers_shows_running_over_concurrency(
    k: kube.Kube, cluster: clusters.Cluster, namespace: str
) -> None:
    await full_worker(k)

    result = await conveyor(cluster, "workers", "-n", namespace)

    assert result.code == 0, result.err
    build = result.table()["build"]
    assert (build["TYPE"], build["STATE"], build["RUNNING"], build["QUEUED"]) == (
        "build",
        "ONLINE",
        "1/1",
        "1",
    )
    assert build["OLDEST"] != "-"
    assert build["HEARTBEAT"] != "-"
    assert build["CAUSE"] == "-"


async def test_history_shows_finished_jobs(
    k: kube.Kube, cluster: clusters.Cluster, namespace: str
) -> None:
    await k.create(builders.worker("build").obj())
    await k.create(builders.pipelinejob("good").obj())
    await k.create(builders.pipelinejob("bad").sim(exit_code=2).obj())
    await k.create(builders.pipelinejob("later").sim(run_time="60s").obj())
    await k.wait_state("good", "SUCCESS")
    await k.wait_state("bad", "FAILED")

    result = await conveyor(cluster, "history", "-n", namespace, "--worker", "build")

    assert result.code == 0, result.err
    rows = result.table()
    assert set(rows) == {"good", "bad"}  # not the running one
    assert (rows["good"]["RESULT"], rows["good"]["ATTEMPTS"]) == ("SUCCESS", "1")
    assert (rows["bad"]["RESULT"], rows["bad"]["REASON"]) == ("FAILED", "PodFailed")
    assert rows["good"]["STARTED"] != "-"
    limited = await conveyor(cluster, "history", "-n", namespace, "--limit", "1", "-o", "json")
    assert len(json.loads(limited.out)["items"]) == 1
    other = await conveyor(cluster, "history", "-n", namespace, "--worker", "nope")
    assert (other.code, other.out) == (0, "")


async def test_revoke(k: kube.Kube, cluster: clusters.Cluster, namespace: str) -> None:
    await full_worker(k)

    result = await conveyor(cluster, "revoke", "hold", "-n", namespace)

    assert result.code == 0, result.err
    assert result.out == "pipelinejob.conveyor.dev/hold revoked\n"
    await k.wait_state("hold", "REVOKED")
    await k.wait_state("waiting", "SUCCESS")  # the slot was freed
    again = await conveyor(cluster, "revoke", "hold", "-n", namespace)
    assert again.code == 1
    assert again.err == "error: pipelinejob hold is already finished (REVOKED): nothing to revoke\n"


async def test_rerun_creates_a_new_job_and_leaves_the_original(
    k: kube.Kube, cluster: clusters.Cluster, namespace: str
) -> None:
    await k.create(builders.worker("build").obj())
    await k.create(builders.pipelinejob("orig").labels({"team": "a"}).obj())
    await k.wait_state("orig", "SUCCESS")
    before = await k.pj("orig")

    result = await conveyor(cluster, "rerun", "orig", "-n", namespace)

    assert result.code == 0, result.err
    assert result.out == "pipelinejob.conveyor.dev/orig-rerun-1 created (rerun of orig)\n"
    rerun = await k.wait_state("orig-rerun-1", "SUCCESS")
    assert rerun["metadata"]["labels"] == {"team": "a", "conveyor.dev/rerun-of": "orig"}
    same = {key: v for key, v in before["spec"].items() if key != "revoke"}
    assert {key: v for key, v in rerun["spec"].items() if key != "revoke"} == same
    assert not rerun["spec"].get("revoke")
    after = await k.pj("orig")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]

    second = await conveyor(cluster, "rerun", "orig", "-n", namespace, "--name", "again")
    assert second.out == "pipelinejob.conveyor.dev/again created (rerun of orig)\n"
    third = await conveyor(cluster, "rerun", "orig", "-n", namespace)
    assert "orig-rerun-2 created" in third.out


async def test_rerun_refuses_an_unfinished_job(
    k: kube.Kube, cluster: clusters.Cluster, namespace: str
) -> None:
    await full_worker(k)

    result = await conveyor(cluster, "rerun", "hold", "-n", namespace)

    assert result.code == 1
    assert result.err.startswith("error: pipelinejob hold is RUNNING, not finished")
    assert await k.list(kube.PJ, labelSelector="conveyor.dev/rerun-of") == []


async def test_logs(k: kube.Kube, cluster: clusters.Cluster, namespace: str) -> None:
    await full_worker(k)

    result = await conveyor(cluster, "logs", "hold", "-n", namespace)
    if cluster.local:
        # kwok plays the pods: there is no container, so no log to read.
        assert result.code == 1
        assert result.err.startswith("error: cannot read the logs of pod hold-1-")
        assert "simulated by kwok" in result.err
    else:
        assert result.code == 0, result.err

    queued = await conveyor(cluster, "logs", "waiting", "-n", namespace)
    assert queued.code == 1
    assert queued.err == (
        "error: waiting has not started an attempt yet (IN-QUEUE: ConcurrencyLimit)\n"
    )


async def test_get_watch_prints_changes_and_stops_on_ctrl_c(
    k: kube.Kube, cluster: clusters.Cluster, namespace: str
) -> None:
    await k.create(builders.worker("build").obj())
    await k.create(builders.pipelinejob("first").obj())
    await k.wait_state("first", "SUCCESS")
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "conveyor.cli.main", "get", "-w", "-n", namespace),
        env={**_env(cluster.kubeconfig), "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = process.stdout, process.stderr
    assert stdout is not None
    assert stderr is not None
    seen: list[str] = []

    async def line_with(*words: str) -> str:
        while True:
            raw = await asyncio.wait_for(stdout.readline(), timeout=TIMEOUT)
            assert raw, f"the watch ended early; seen: {seen}"
            seen.append(raw.decode())
            if all(w in seen[-1].split() for w in words):
                return seen[-1]

    try:
        await line_with("NAME", "STATE", "QUEUE")
        await line_with("first", "SUCCESS")
        await k.create(builders.pipelinejob("second").obj())
        await line_with("second", "SUCCESS")
    finally:
        process.send_signal(signal.SIGINT)
        # communicate(), not wait(): it drains both pipes, so a child that
        # still writes cannot block on a full pipe and never exit.
        rest, err_bytes = await asyncio.wait_for(process.communicate(), timeout=TIMEOUT)
    seen.extend(rest.decode().splitlines(keepends=True))
    err = err_bytes.decode()
    code = process.returncode
    assert code == 0, err
    assert "Traceback" not in err
    assert sum(1 for line in seen if line.split()[:2] == ["first", "SUCCESS"]) == 1


async def test_not_found_is_one_line(
    k: kube.Kube, cluster: clusters.Cluster, namespace: str
) -> None:
    for args in (("why", "nope"), ("logs", "nope"), ("revoke", "nope"), ("rerun", "nope")):
        result = await conveyor(cluster, *args, "-n", namespace)
        assert result.code == 1, args
        assert result.err == f"error: pipelinejob nope not found in namespace {namespace}\n"
        assert result.out == ""


async def test_no_kubeconfig(cluster: clusters.Cluster, tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "missing"

    result = await conveyor(cluster, "get", kubeconfig=missing)

    assert result.code == 1
    assert result.err.startswith("error: no kubeconfig: KUBECONFIG names ")
    flag = await conveyor(cluster, "workers", "--kubeconfig", str(missing))
    assert flag.err == f"error: no kubeconfig: {missing} does not exist\n"


async def test_usage_errors_exit_2(cluster: clusters.Cluster) -> None:
    result = await conveyor(cluster, "get", "-o", "xml")
    assert result.code == 2
    assert "invalid output format 'xml'" in result.err


async def test_connection_refused(cluster: clusters.Cluster, tmp_path: pathlib.Path) -> None:
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for entry in config["clusters"]:
        entry["cluster"]["server"] = f"https://127.0.0.1:{port}"
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))

    result = await conveyor(cluster, "get", kubeconfig=path)

    assert result.code == 1
    assert result.err.startswith(
        f"error: cannot connect to the API server at https://127.0.0.1:{port}"
    )


async def test_forbidden(cluster: clusters.Cluster, namespace: str, tmp_path: pathlib.Path) -> None:
    """A user without RBAC rights (a fresh ServiceAccount's token) is told so."""
    cluster.kubectl("create", "serviceaccount", "nobody", "-n", namespace)
    token = cluster.kubectl("create", "token", "nobody", "-n", namespace).strip()
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    config["users"] = [{"name": "nobody", "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = "nobody"
        context["context"]["namespace"] = namespace
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))

    # The token is accepted once the API server's cache has the new ServiceAccount.
    for _ in range(20):
        result = await conveyor(cluster, "get", kubeconfig=path)
        if not result.err.startswith("error: not authenticated"):
            break
        await asyncio.sleep(0.5)

    assert result.code == 1, result
    # `get` lists PipelineJobs and Workers at once: either refusal may come first.
    assert result.err.startswith(
        (
            "error: not allowed: pipelinejobs.conveyor.dev is forbidden",
            "error: not allowed: workers.conveyor.dev is forbidden",
        )
    ), result.err
    assert result.err.count("\n") == 1  # one line, no traceback
    assert f"system:serviceaccount:{namespace}:nobody" in result.err
