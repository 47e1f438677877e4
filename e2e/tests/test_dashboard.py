"""End to end, in a real browser: `conveyor dashboard` against the local
control plane with the operator running, driven by Playwright on Debian's
headless Chromium (never a downloaded browser).

The dashboard reaches the API server through a TCP proxy in this process,
so a test can break every one of its watch connections at once.

CONVEYOR_SCREENSHOTS=docs/images writes each page's screenshot there
(`make screenshots`); otherwise they go to the test's temporary directory.
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import datetime
import json
import os
import pathlib
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from typing import Any

import pytest
import yaml

from conveyor.k8s import api
from e2e.tests import cluster as clusters
from e2e.tests import kube
from tests import builders

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]

ROOT = clusters.ROOT
CHROMIUM = pathlib.Path(os.environ.get("CONVEYOR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIVE_LAG = 2.0  # seconds from the API to the open page
BAD_IMAGE = {"spec": {"containers": [{"name": "main", "image": "unpullable.invalid/app:1"}]}}


def _require_browser() -> None:
    message = f"{CHROMIUM} is missing: apt-get install -y chromium (make browser)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        message = "playwright is missing: pip install -e '.[dev]'"
    else:
        if CHROMIUM.exists():
            return
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


# -- a TCP proxy in front of the API server ---------------------------------------------


class Proxy:
    """Forwards bytes to the API server; `cut()` drops every open connection."""

    def __init__(self, *, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
                with self._lock:
                    self._open.discard(s)

    def cut(self) -> int:
        """Reset every connection through the proxy, as a network break would."""
        with self._lock:
            victims = list(self._open)
        for s in victims:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        return len(victims) // 2

    def close(self) -> None:
        self.server.close()
        self.cut()


def _proxied_kubeconfig(
    source: pathlib.Path, *, port: int, target: pathlib.Path
) -> tuple[str, int]:
    config = yaml.safe_load(source.read_text())
    url = urllib.parse.urlsplit(config["clusters"][0]["cluster"]["server"])
    host, api_port = url.hostname or "127.0.0.1", url.port or 443
    for entry in config["clusters"]:
        entry["cluster"]["server"] = f"{url.scheme}://{host}:{port}"
    target.write_text(yaml.safe_dump(config))
    return host, api_port


# -- the dashboard as users run it -------------------------------------------------------


class Dashboard:
    def __init__(
        self, *, kubeconfig: pathlib.Path, log: pathlib.Path, args: tuple[str, ...] = ("-A",)
    ) -> None:
        self.kubeconfig = kubeconfig
        self.log = log
        self.args = args
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port: int = s.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [sys.executable, "-m", "conveyor.cli.main", "dashboard", *self.args]
        args += ["--port", str(self.port), "--kubeconfig", str(self.kubeconfig)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.wait_live()

    def health(self) -> dict[str, str]:
        with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
            data: dict[str, str] = json.loads(answer.read())
            return data

    def wait_live(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            assert self.process.poll() is None, self.log.read_text()
            with contextlib.suppress(OSError, ValueError):
                if all(v in ("live", "missing") for v in self.health().values()):
                    return
            time.sleep(0.2)
        raise AssertionError(f"dashboard not live in {timeout}s; log:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def proxy(
    cluster: clusters.Cluster, tmp_path_factory: pytest.TempPathFactory
) -> collections.abc.Iterator[tuple[Proxy, pathlib.Path]]:
    path = tmp_path_factory.mktemp("dashboard") / "kubeconfig"
    placeholder = _proxied_kubeconfig(cluster.kubeconfig, port=1, target=path)
    p = Proxy(target=placeholder)
    _proxied_kubeconfig(cluster.kubeconfig, port=p.port, target=path)
    try:
        yield p, path
    finally:
        p.close()


@pytest.fixture(scope="module")
def dashboard(
    proxy: tuple[Proxy, pathlib.Path], crds: None, tmp_path_factory: pytest.TempPathFactory
) -> collections.abc.Iterator[Dashboard]:
    _require_browser()
    log = tmp_path_factory.mktemp("dashboard-log") / "dashboard.log"
    d = Dashboard(kubeconfig=proxy[1], log=log)
    d.start()
    try:
        yield d
    finally:
        d.stop()
        if os.environ.get("CONVEYOR_E2E_SHOW_LOG"):
            print(log.read_text())


# -- the browser ---------------------------------------------------------------------------


class Browser:
    """One page in headless Chromium; console errors and page errors are kept."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    async def open(self, url: str) -> None:
        answer = await self.page.goto(url, wait_until="load")
        assert answer is not None
        assert answer.status == 200, url
        await self.page.wait_for_selector("#conn.live", timeout=10_000)

    async def wait_row(self, selector: str, *, timeout: float = 30) -> float:
        """Until the selector matches on the open page; returns when (monotonic)."""
        await self.page.wait_for_selector(selector, timeout=timeout * 1000, state="attached")
        return time.monotonic()


@contextlib.asynccontextmanager
async def browser() -> collections.abc.AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await chromium.new_context(viewport={"width": 1400, "height": 900})
            yield Browser(await context.new_page())
        finally:
            await chromium.close()


def screenshot_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    wanted = os.environ.get("CONVEYOR_SCREENSHOTS")
    return (ROOT / wanted) if wanted else tmp_path


class StateWatch:
    """When the API first showed each state of one PipelineJob (a watch, not a poll)."""

    def __init__(self, *, client: api.Client, namespace: str, name: str) -> None:
        self.client, self.namespace, self.name = client, namespace, name
        self.seen: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        session = self.client._get_session()
        params = {"watch": "true", "fieldSelector": f"metadata.name={self.name}"}
        path = api.PIPELINEJOBS.path(namespace=self.namespace).lstrip("/")
        async with session.get(path, params=params, timeout=None) as response:
            async for line in response.content:
                state = ((json.loads(line).get("object") or {}).get("status") or {}).get("state")
                if state:
                    self.seen.setdefault(state, time.monotonic())

    def __enter__(self) -> StateWatch:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


def kubectl_apply(cluster: clusters.Cluster, body: dict[str, Any], namespace: str) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(body))


# -- the tests -------------------------------------------------------------------------------


async def test_a_job_appears_and_changes_state_live(
    dashboard: Dashboard, cluster: clusters.Cluster, k: kube.Kube, namespace: str
) -> None:
    await k.create(builders.worker("build").concurrency(1).obj())
    name = f"live-{secrets.token_hex(2)}"
    async with browser() as b:
        await b.open(f"{dashboard.url}/jobs?namespace={namespace}")
        with StateWatch(client=k.client, namespace=namespace, name=name) as api_watch:
            await asyncio.sleep(0.5)  # the watch is open before the job exists
            kubectl_apply(cluster, builders.pipelinejob(name).sim(run_time="3s").obj(), namespace)
            row = f'tr[data-name="{name}"]'
            seen = {
                state: await b.wait_row(f'{row}[data-state="{state}"]', timeout=60)
                for state in ("RUNNING", "SUCCESS")
            }
        lags = {state: seen[state] - api_watch.seen[state] for state in seen}
        shown = {state: round(lag, 3) for state, lag in lags.items()}
        print(f"\ndashboard lag behind the API (s): {json.dumps(shown)}")
        for state, lag in lags.items():
            assert lag < LIVE_LAG, f"{state} reached the page {lag:.2f}s after the API"
        await b.page.click(f"{row} a")
        await b.page.wait_for_selector('#job-state[data-state="SUCCESS"]')
        why = await b.page.inner_text("#why")
        assert f"pipelinejob {namespace}/{name}: SUCCESS" in why
        assert not b.errors, b.errors


async def test_the_health_page_shows_an_offline_worker(
    dashboard: Dashboard, k: kube.Kube, namespace: str, tmp_path: pathlib.Path
) -> None:
    await k.create(builders.worker("build").concurrency(1).template(BAD_IMAGE).obj())
    await k.create(builders.pipelinejob("stuck").obj())
    async with browser() as b:
        await b.open(f"{dashboard.url}/workers")
        row = f'tr[data-namespace="{namespace}"][data-name="build"]'
        await b.wait_row(f'{row}[data-state="OFFLINE"]', timeout=90)
        text = await b.page.inner_text(row)
        assert "ImagePullFailing" in text
        assert "stuck-1-" in text  # the example pod
        await b.page.screenshot(path=str(screenshot_dir(tmp_path) / "dashboard-health.png"))
        await b.open(f"{dashboard.url}/jobs/{namespace}/stuck")
        why = await b.page.inner_text("#why")
        assert "fix the image in the Worker's template" in why
        assert not b.errors, b.errors


async def test_a_pipeline_graph_updates_step_by_step(
    dashboard: Dashboard,
    cluster: clusters.Cluster,
    k: kube.Kube,
    namespace: str,
    tmp_path: pathlib.Path,
) -> None:
    run = {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineRun",
        "metadata": {"name": "ci-1"},
        "spec": {
            "steps": [
                {"name": "build", "forEach": "{{ params.platforms }}", "job": {"type": "custom"}},
                {"name": "test", "dependsOn": ["build"], "job": {"type": "custom"}},
                {"name": "deploy", "dependsOn": ["test"], "job": {"type": "deploy"}},
            ],
            "finally": [{"name": "notify", "job": {"type": "custom"}}],
        },
    }
    # A namespace the operator does not watch (it watches e2e-*, the dashboard
    # all): the status written below is the only one, not the run controller's.
    namespace = f"static-{namespace}"
    cluster.kubectl("create", "namespace", namespace)
    kubectl_apply(cluster, run, namespace)
    build_jobs = ["ci-1-build-0", "ci-1-build-1"]

    def status(*steps: dict[str, Any], state: str = "RUNNING") -> None:
        patch = {"status": {"state": state, "steps": list(steps)}}
        cluster.kubectl(
            "patch",
            "pipelinerun",
            "ci-1",
            "-n",
            namespace,
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps(patch),
        )

    async with browser() as b:
        await b.open(f"{dashboard.url}/runs/{namespace}/ci-1")
        step = '#dag g[data-step="{}"][data-state="{}"]'
        await b.wait_row(step.format("build", "Pending"))
        status(
            {"name": "build", "state": "RUNNING", "jobs": build_jobs},
            {"name": "test", "state": "Pending"},
        )
        await b.wait_row(step.format("build", "RUNNING"), timeout=10)
        status(
            {"name": "build", "state": "SUCCESS", "jobs": build_jobs},
            {"name": "test", "state": "RUNNING", "jobs": ["ci-1-test"]},
        )
        await b.wait_row(step.format("test", "RUNNING"), timeout=10)
        await b.wait_row(step.format("build", "SUCCESS"), timeout=10)
        assert "2 jobs" in (await b.page.inner_html("#dag"))
        await b.page.screenshot(path=str(screenshot_dir(tmp_path) / "dashboard-run.png"))
        status(
            {"name": "build", "state": "SUCCESS", "jobs": build_jobs},
            {"name": "test", "state": "FAILED", "jobs": ["ci-1-test"]},
            {"name": "deploy", "state": "Skipped"},
            {"name": "notify", "state": "SUCCESS", "jobs": ["ci-1-notify"]},
            state="FAILED",
        )
        await b.wait_row('#run-state[data-state="FAILED"]', timeout=10)
        await b.wait_row(step.format("deploy", "Skipped"), timeout=10)
        assert (await b.page.inner_text("#steps-done")) == "4 of 4 done"
        # click-through to a step's job
        await b.page.click('#dag g[data-step="test"]')
        await b.page.wait_for_url(f"**/jobs/{namespace}/ci-1-test")
        assert not b.errors, b.errors
    cluster.kubectl("delete", "namespace", namespace, "--wait=false")


async def test_every_page_loads_without_console_errors(
    dashboard: Dashboard,
    cluster: clusters.Cluster,
    k: kube.Kube,
    namespace: str,
    tmp_path: pathlib.Path,
) -> None:
    await k.create(builders.worker("build").concurrency(2).obj())
    for i in range(3):
        await k.create(builders.pipelinejob(f"done-{i}").sim(run_time="1s").obj())
    await k.create(builders.pipelinejob("failed").sim(exit_code=1).obj())
    for i in range(3):
        await k.wait_state(f"done-{i}", "SUCCESS")
    await k.create(builders.pipelinejob("long").sim(run_time="120s").obj())
    await k.create(builders.pipelinejob("long-2").sim(run_time="120s").labels({"app": "api"}).obj())
    await k.wait_state("long", "RUNNING")
    await k.wait_state("long-2", "RUNNING")
    await k.create(builders.pipelinejob("queued").obj())
    await k.wait_state("queued", "IN-QUEUE", reason="ConcurrencyLimit")
    out = screenshot_dir(tmp_path)
    pages = {
        "jobs": f"/jobs?namespace={namespace}",
        "job": f"/jobs/{namespace}/long",
        "runs": "/runs",
        "history": "/history",
        "workers": "/workers",
    }
    async with browser() as b:
        for name, path in pages.items():
            await b.open(dashboard.url + path)
            await b.page.screenshot(
                path=str(out / f"dashboard-{name}.png"), full_page=name != "job"
            )
        # The running job's log panel follows its pod (kwok's pods have no real
        # log: the panel then says why in a sentence, as `conveyor logs` does).
        await b.open(f"{dashboard.url}/jobs/{namespace}/long")
        await b.page.wait_for_function("document.querySelector('#log-pod').textContent !== ''")
        await b.page.wait_for_function(
            "(t => t.length > 0 && !t.startsWith('no pod'))"
            "(document.querySelector('#log').textContent)"
        )
        log_text = (await b.page.inner_text("#log")).strip()
        print(f"\nlog panel of a running job: {log_text[:200]!r}")
        if cluster.local:  # a real cluster has real logs
            assert log_text.startswith("cannot read the logs of pod long-1-"), log_text
        assert "long-1-" in await b.page.inner_text("#log-pod")
        await b.open(f"{dashboard.url}/jobs?namespace={namespace}&q=done")
        assert await b.page.locator("#jobs tbody tr").count() == 3
        await b.page.fill("#search", "fail")
        await b.wait_row('tr[data-name="failed"]', timeout=5)
        assert await b.page.locator("#jobs tbody tr").count() == 1
        assert not b.errors, b.errors


async def test_the_stream_recovers_after_the_watch_breaks(
    dashboard: Dashboard, proxy: tuple[Proxy, pathlib.Path], k: kube.Kube, namespace: str
) -> None:
    await k.create(builders.worker("build").concurrency(2).obj())
    async with browser() as b:
        await b.open(f"{dashboard.url}/jobs?namespace={namespace}")
        # The network between the dashboard and the API server breaks: every watch drops.
        cut = proxy[0].cut()
        assert cut >= 1
        await k.create(builders.pipelinejob("after-break").obj())
        started = time.monotonic()
        await b.wait_row('tr[data-name="after-break"][data-state="SUCCESS"]', timeout=60)
        took = time.monotonic() - started
        print(f"\nafter a cut of {cut} connections the job showed in {took:.1f}s")
        # The dashboard itself restarts: the browser's stream reconnects by itself.
        dashboard.stop()
        dashboard.start()
        await b.page.wait_for_selector("#conn.live", timeout=15_000)
        await k.create(builders.pipelinejob("after-restart").obj())
        await b.wait_row('tr[data-name="after-restart"][data-state="SUCCESS"]', timeout=60)
        assert not [e for e in b.errors if "/events" not in e and "ERR_CONNECTION_REFUSED" not in e]


# -- the insights page, on an archive -----------------------------------------------------


def cli_insights(archive: str, *args: str) -> list[list[str]]:
    """`conveyor insights --archive ...` as users run it: its table, split into cells."""
    command = [sys.executable, "-m", "conveyor.cli.main", "insights", "--archive", archive]
    done = subprocess.run([*command, *args], capture_output=True, text=True, check=True)
    return [line.split() for line in done.stdout.splitlines()[1:]]


async def page_insights(b: Browser) -> list[list[str]]:
    """The insights table as shown, in the CLI's columns (one band column)."""
    rows = []
    for tr in await b.page.locator("#insights tbody tr").all():
        service = await tr.get_attribute("data-service") or ""
        environment = await tr.get_attribute("data-environment") or ""
        deploys = await tr.locator("td.deploys").inner_text()
        cells = tr.locator("td[data-metric]")
        values = [await c.locator(".value").inner_text() for c in await cells.all()]
        bands = [await c.locator(".band").inner_text() for c in await cells.all()]
        opened = await tr.locator("td.open").inner_text()
        rows.append([service, environment, deploys, *values, opened, "/".join(bands).lower()])
    return rows


@pytest.fixture
def archived(
    proxy: tuple[Proxy, pathlib.Path], crds: None, namespace: str, tmp_path: pathlib.Path
) -> collections.abc.Iterator[tuple[Dashboard, str]]:
    """A dashboard of `namespace` with an SQLite archive that holds three
    services' synthetic delivery history (tests/dashboard/deliveries.py)."""
    _require_browser()
    from tests.dashboard import deliveries

    from conveyor.archive import store, url

    where = f"sqlite:///{tmp_path}/history.db"
    archive = store.Archive(url=url.parse(where))
    archive.migrate()
    now = datetime.datetime.now(datetime.UTC)
    archive.write(deliveries.records(now=now, namespace=namespace), now=now)
    archive.close()
    args = ("-n", namespace, "--archive", where)
    d = Dashboard(kubeconfig=proxy[1], log=tmp_path / "dashboard.log", args=args)
    d.start()
    try:
        yield d, where
    finally:
        d.stop()


async def test_the_insights_page_shows_what_conveyor_insights_says(
    archived: tuple[Dashboard, str], tmp_path: pathlib.Path
) -> None:
    dashboard, where = archived
    async with browser() as b:
        await b.open(f"{dashboard.url}/insights")
        shown = await page_insights(b)
        assert shown == cli_insights(where, "--since", "30d")
        # Hand-worked (tests/dashboard/deliveries.py): what the bands say of api.
        api = ["api", "prod", "31", "1.00", "3h", "6%", "120m", "0", "elite/elite/high/high"]
        assert shown[0] == api
        for chart in ("#chart-deploys", "#chart-failure-rate", "#chart-lead-time"):
            assert await b.page.locator(f"{chart} rect.bar").count() > 0, chart
        await b.page.screenshot(
            path=str(screenshot_dir(tmp_path) / "dashboard-insights.png"), full_page=True
        )
        # The window and a service, as a person picks them: the page follows
        # without a load, and so do its figures.
        await b.page.select_option('select[name="window"]', "7")
        await b.wait_row('#summary:has-text("in the last 7 days")', timeout=10)
        assert await page_insights(b) == cli_insights(where, "--since", "7d")
        await b.page.select_option('select[name="service"]', "web")
        await b.page.wait_for_selector('tr[data-service="api"]', state="detached", timeout=10_000)
        *groups, overall = await page_insights(b)
        assert groups == cli_insights(where, "--since", "7d", "--service", "web")
        assert overall[0] == "(all)"  # of the chosen ones: here web's figures
        assert overall[2:] == groups[0][2:]
        assert "window=7" in b.page.url
        assert "service=web" in b.page.url
        assert not b.errors, b.errors  # the strict CSP refused nothing
