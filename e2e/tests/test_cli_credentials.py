"""End to end: the CLI and the operator on credentials as real clusters hand
them out, and the kubectl-like options checked against kubectl itself.

The user is an exec credential plugin (a script printing an ExecCredential)
whose tokens are ServiceAccount tokens from the TokenRequest API, each bound
to a Secret: deleting the Secret revokes the token at once, which stands in
for expiry (the API server issues no token shorter than ten minutes)."""

from __future__ import annotations

import asyncio
import collections.abc
import json
import os
import pathlib
import secrets
import signal
import sys
import time
from typing import Any

import pytest
import yaml

from conveyor.k8s import api, login
from e2e.tests import cluster as clusters
from e2e.tests import conftest, kube, test_cli
from tests import builders

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]

TIMEOUT = 90.0
EXEC_API = "client.authentication.k8s.io/v1"
USER = "cli-user"

PLUGIN = """\
import datetime, json, os, pathlib
state = pathlib.Path(os.environ["PLUGIN_STATE"])
with (state / "calls.log").open("a") as log:
    log.write(os.environ.get("KUBERNETES_EXEC_INFO", "") + "\\n")
status = {"token": (state / "token").read_text().strip()}
ttl = state / "ttl"
if ttl.exists():
    until = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=float(ttl.read_text()))
    status["expirationTimestamp"] = until.strftime("%Y-%m-%dT%H:%M:%SZ")
print(json.dumps({"apiVersion": "%s", "kind": "ExecCredential", "status": status}))
""".replace("%s", EXEC_API)


class ExecUser:
    """A ServiceAccount with admin rights in one namespace, logged in through
    an exec plugin; `issue` hands the plugin a new token, `revoke` kills one."""

    def __init__(self, *, cluster: clusters.Cluster, namespace: str, state: pathlib.Path) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.state = state
        self.kubeconfig = state / "kubeconfig"
        self.tokens: dict[str, str] = {}

    def setup(self) -> None:
        kc = self.cluster.kubectl
        kc("create", "serviceaccount", USER, "-n", self.namespace)
        kc(
            "create", "rolebinding", USER, "-n", self.namespace,
            "--clusterrole=cluster-admin", f"--serviceaccount={self.namespace}:{USER}",
        )  # fmt: skip
        (self.state / "plugin.py").write_text(PLUGIN)
        config = yaml.safe_load(self.cluster.kubeconfig.read_text())
        cluster_name = config["clusters"][0]["name"]
        config["users"].append(
            {
                "name": "exec-user",
                "user": {
                    "exec": {
                        "apiVersion": EXEC_API,
                        "command": sys.executable,
                        "args": [str(self.state / "plugin.py")],
                        "env": [{"name": "PLUGIN_STATE", "value": str(self.state)}],
                        "interactiveMode": "Never",
                        "provideClusterInfo": True,
                    }
                },
            }
        )
        config["contexts"].append(
            {
                "name": "exec",
                "context": {
                    "cluster": cluster_name,
                    "user": "exec-user",
                    "namespace": self.namespace,
                },
            }
        )
        config["current-context"] = "exec"
        self.kubeconfig.write_text(yaml.safe_dump(config))

    async def issue(self, name: str) -> str:
        """A token bound to a new Secret `name`, handed to the plugin once accepted."""
        kc = self.cluster.kubectl
        kc("create", "secret", "generic", name, "-n", self.namespace)
        token = kc(
            "create", "token", USER, "-n", self.namespace, "--duration=10m",
            "--bound-object-kind=Secret", f"--bound-object-name={name}",
        ).strip()  # fmt: skip
        await self._wait(token, accepted=True)
        self.tokens[name] = token
        (self.state / "token").write_text(token)
        return token

    async def revoke(self, name: str) -> None:
        """Delete the token's Secret; wait until the API server refuses it
        (it caches accepted tokens for a few seconds)."""
        self.cluster.kubectl("delete", "secret", name, "-n", self.namespace)
        await self._wait(self.tokens[name], accepted=False)

    def calls(self) -> list[dict[str, Any]]:
        log = self.state / "calls.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [json.loads(line) for line in lines if line]

    async def _wait(self, token: str, *, accepted: bool) -> None:
        config = yaml.safe_load(self.cluster.kubeconfig.read_text())
        config["users"] = [{"name": "token", "user": {"token": token}}]
        for context in config["contexts"]:
            context["context"]["user"] = "token"
        path = self.state / f"probe-{secrets.token_hex(3)}.kubeconfig"
        path.write_text(yaml.safe_dump(config))
        deadline = time.monotonic() + 60
        async with api.Client(login=login.Source(kubeconfig=str(path))) as client:
            while time.monotonic() < deadline:
                try:
                    await client.list(api.WORKERS, namespace=self.namespace)
                    ok = True
                except api.ApiError as exc:
                    if exc.status != 401:
                        raise
                    ok = False
                if ok == accepted:
                    return
                await asyncio.sleep(0.5)
        raise AssertionError(f"the token was not {'accepted' if accepted else 'refused'} in 60s")


@pytest.fixture
async def user(cluster: clusters.Cluster, namespace: str, tmp_path: pathlib.Path) -> ExecUser:
    found = ExecUser(cluster=cluster, namespace=namespace, state=tmp_path)
    found.setup()
    await found.issue("token-a")
    return found


async def conveyor(user: ExecUser, *args: str) -> test_cli.Result:
    return await test_cli.conveyor(user.cluster, *args, kubeconfig=user.kubeconfig)


async def check_get_why_logs(user: ExecUser) -> None:
    got = await conveyor(user, "get")
    assert got.code == 0, got.err
    assert set(got.table()) == {"hold", "waiting"}
    why = await conveyor(user, "why", "waiting")
    assert why.code == 0, why.err
    assert why.out.startswith(f"pipelinejob {user.namespace}/waiting: IN-QUEUE (ConcurrencyLimit)")
    logs = await conveyor(user, "logs", "-f", "hold")
    assert "not authenticated" not in logs.err
    if user.cluster.local:  # authenticated and allowed: it got as far as the node
        assert logs.code == 1
        assert "simulated by kwok" in logs.err, logs.err
    else:
        assert logs.code == 0, logs.err


async def test_get_why_and_logs_log_in_through_the_exec_plugin_across_a_token_change(
    user: ExecUser, k: kube.Kube
) -> None:
    await k.queue_behind_full_worker(holder="hold", waiting="waiting", run_time="60s")

    await check_get_why_logs(user)
    calls = user.calls()
    assert calls, "the plugin was not run"
    info = calls[0]
    assert (info["apiVersion"], info["kind"]) == (EXEC_API, "ExecCredential")
    assert info["spec"]["interactive"] is False  # interactiveMode: Never
    server = yaml.safe_load(user.cluster.kubeconfig.read_text())["clusters"][0]["cluster"]
    assert info["spec"]["cluster"]["server"] == server["server"]  # provideClusterInfo

    await user.issue("token-b")
    await user.revoke("token-a")
    await check_get_why_logs(user)


async def watch(user: ExecUser, *args: str) -> tuple[asyncio.subprocess.Process, list[str]]:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "conveyor.cli.main", "get", "-w", *args),
        env={**test_cli._env(user.kubeconfig), "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return process, []


async def line_with(process: asyncio.subprocess.Process, seen: list[str], *words: str) -> str:
    assert process.stdout is not None
    while True:
        raw = await asyncio.wait_for(process.stdout.readline(), timeout=TIMEOUT)
        assert raw, f"the watch ended early; seen: {seen}"
        seen.append(raw.decode())
        if all(w in seen[-1].split() for w in words):
            return seen[-1]


async def stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(process.communicate(), timeout=TIMEOUT)
    assert process.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    return err.decode()


async def test_a_watch_keeps_working_when_its_token_is_revoked(
    user: ExecUser, k: kube.Kube
) -> None:
    await k.create(builders.worker("build").obj())
    await k.create(builders.pipelinejob("before").obj())
    await k.wait_state("before", "SUCCESS")
    process, seen = await watch(user)
    try:
        await line_with(process, seen, "before", "SUCCESS")
        first = len(user.calls())
        await user.issue("token-b")
        await user.revoke("token-a")
        await k.create(builders.pipelinejob("after").obj())
        await line_with(process, seen, "after", "SUCCESS")
    finally:
        err = await stop(process)
    assert "error" not in err
    assert len(user.calls()) > first  # the 401 made it run the plugin again


async def test_an_expiring_exec_credential_is_renewed_before_it_expires(
    user: ExecUser, k: kube.Kube
) -> None:
    (user.state / "ttl").write_text("12")  # renewed 10s before expiry: every 2s
    await k.create(builders.worker("build").obj())
    process, seen = await watch(user)
    try:
        await line_with(process, seen, "NAME")  # the header: it listed once
        await asyncio.sleep(7)
    finally:
        await stop(process)
    assert len(user.calls()) >= 3, user.calls()


@pytest.fixture
def own_namespace(cluster: clusters.Cluster) -> collections.abc.Iterator[str]:
    """A namespace the session's operator does not watch (it watches e2e-*)."""
    name = f"cred-{secrets.token_hex(4)}"
    cluster.kubectl("create", "namespace", name)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if cluster.kubectl("get", "serviceaccount", "default", "-n", name, check=False):
            break
        time.sleep(0.1)
    try:
        yield name
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


async def test_the_operator_runs_on_exec_credentials_across_a_token_change(
    cluster: clusters.Cluster, own_namespace: str, client: api.Client, tmp_path: pathlib.Path
) -> None:
    user = ExecUser(cluster=cluster, namespace=own_namespace, state=tmp_path)
    user.setup()
    await user.issue("token-a")
    k = kube.Kube(client=client, namespace=own_namespace)
    proc = conftest.OperatorProcess(
        kubeconfig=user.kubeconfig, namespaces=[own_namespace], log=tmp_path / "operator.log"
    )
    proc.start()
    try:
        proc.wait_ready()
        await k.create(builders.worker("build").obj())
        await k.create(builders.pipelinejob("first").obj())
        await k.wait_state("first", "SUCCESS", timeout=TIMEOUT)
        before = len(user.calls())
        await user.issue("token-b")
        await user.revoke("token-a")
        await k.create(builders.pipelinejob("second").obj())
        await k.wait_state("second", "SUCCESS", timeout=TIMEOUT)
        assert proc.alive()
    finally:
        proc.stop()
    log = (tmp_path / "operator.log").read_text()
    assert "Traceback" not in log, log[-3000:]
    assert len(user.calls()) > before


async def test_context_picks_between_contexts_of_merged_kubeconfigs(
    cluster: clusters.Cluster, k: kube.Kube, namespace: str, tmp_path: pathlib.Path
) -> None:
    other = f"{namespace}-b"
    cluster.kubectl("create", "namespace", other)
    try:
        await k.create(builders.worker("build").obj())
        await kube.Kube(client=k.client, namespace=other).create(builders.worker("other").obj())
        config = yaml.safe_load(cluster.kubeconfig.read_text())
        base = config["contexts"][0]["context"]
        config["contexts"] = [
            {"name": "ctx-a", "context": {**base, "namespace": namespace}},
            {"name": "ctx-b", "context": {**base, "namespace": other}},
        ]
        config["current-context"] = "ctx-a"
        first = tmp_path / "first"
        first.write_text(yaml.safe_dump(config))
        second = tmp_path / "second"  # a later file's current-context does not win
        second.write_text(yaml.safe_dump({**config, "current-context": "ctx-b"}))
        listed = os.pathsep.join([str(tmp_path / "missing"), str(first), str(second)])

        default = await test_cli.conveyor(cluster, "workers", "-o", "name", kubeconfig=listed)
        picked = await test_cli.conveyor(
            cluster, "workers", "--context", "ctx-b", "-o", "name", kubeconfig=listed
        )
        unknown = await test_cli.conveyor(
            cluster, "workers", "--context", "nope", kubeconfig=listed
        )
    finally:
        cluster.kubectl("delete", "namespace", other, "--wait=false", check=False)

    assert default.out == "worker.conveyor.dev/build\n", default.err
    assert picked.out == "worker.conveyor.dev/other\n", picked.err
    assert unknown.code == 1
    assert unknown.err.startswith("error: context 'nope' not found in kubeconfig ")


async def test_selectors_and_output_formats_match_kubectl(
    cluster: clusters.Cluster, k: kube.Kube, namespace: str
) -> None:
    await k.create(builders.worker("build").concurrency(3).obj())
    for name, team in (("c-one", "a"), ("a-two", "b"), ("b-three", "a")):
        await k.create(builders.pipelinejob(name).labels({"team": team}).obj())
    for name in ("c-one", "a-two", "b-three"):
        await k.wait_state(name, "SUCCESS")
    cases = [
        ("-l", "team=a", "-o", "name"),
        ("--field-selector", "metadata.name=a-two", "-o", "name"),
        ("-o", "name", "--sort-by", ".metadata.name"),
        ("-o", "jsonpath={.items[*].metadata.name}"),
        ("-o", 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.status.state}{"\\n"}{end}'),
        ("-o", 'jsonpath={.items[?(@.metadata.labels.team=="b")].metadata.name}'),
        ("-o", "custom-columns=NAME:.metadata.name,TEAM:.metadata.labels.team,STATE:.status.state"),
        ("-l", "team=a", "-o", "custom-columns=NAME:.metadata.name", "--no-headers"),
        ("a-two", "-o", "jsonpath={.status.state}"),
    ]
    for args in cases:
        ours = await test_cli.conveyor(cluster, "get", "-n", namespace, *args)
        theirs = cluster.kubectl("get", "pipelinejobs", "-n", namespace, *args)
        assert ours.code == 0, (args, ours.err)
        assert ours.out == theirs, args

    # JSON byte for byte (four spaces, sorted keys, no managedFields); YAML as data.
    ours_json = await test_cli.conveyor(cluster, "get", "-n", namespace, "-o", "json")
    assert ours_json.out == cluster.kubectl("get", "pipelinejobs", "-n", namespace, "-o", "json")
    ours_yaml = await test_cli.conveyor(cluster, "get", "a-two", "-n", namespace, "-o", "yaml")
    assert yaml.safe_load(ours_yaml.out) == yaml.safe_load(
        cluster.kubectl("get", "pipelinejob", "a-two", "-n", namespace, "-o", "yaml")
    )


async def test_completion_offers_objects_from_the_cluster(
    cluster: clusters.Cluster, k: kube.Kube, namespace: str, tmp_path: pathlib.Path
) -> None:
    await k.create(builders.worker("build").obj())
    await k.create(builders.pipelinejob("api-build-1").obj())
    await k.create(builders.pipelinejob("api-build-2").obj())
    out = tmp_path / "completions"
    line = f"conveyor why -n {namespace} api-"
    env = {
        **test_cli._env(cluster.kubeconfig),
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_SHELL": "bash",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "conveyor.cli.main", env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=TIMEOUT)

    assert process.returncode == 0, err.decode()
    assert sorted(out.read_text().split("\v")) == ["api-build-1", "api-build-2"]
