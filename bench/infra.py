"""Processes the benchmark owns: the local control plane and the operator.

Both are started in their own process group and always stopped by the
caller's `finally` (and, as a last resort, by an `atexit` hook), so an
interrupted benchmark leaves nothing running.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import pathlib
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import Protocol

from prometheus_client.parser import text_string_to_metric_families

ROOT = pathlib.Path(__file__).resolve().parents[1]
CLUSTER_BIN = ROOT / "e2e" / "bin" / "conveyor-cluster"
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and why."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


_cleanups: list[Callable[[], None]] = []


def _run_cleanups() -> None:
    while _cleanups:
        with contextlib.suppress(Exception):
            _cleanups.pop()()


atexit.register(_run_cleanups)


def on_exit(stop: Callable[[], None]) -> None:
    """Run `stop` at the end (`run_cleanups`, or at exit) unless forgotten first."""
    if stop not in _cleanups:
        _cleanups.append(stop)


def forget(stop: Callable[[], None]) -> None:
    if stop in _cleanups:
        _cleanups.remove(stop)


def scrape(
    request: str | urllib.request.Request, *, context: ssl.SSLContext | None = None
) -> dict[str, list[tuple[dict[str, str], float]]]:
    """A Prometheus text endpoint, as {sample name: [(labels, value)]}."""
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        return parse_metrics(response.read().decode())


def parse_metrics(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return samples


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- /proc ---------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    """Resident set size (VmRSS) of a process."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise BenchError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (not its children), in seconds."""
    stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children_of(pid: int) -> dict[int, str]:
    """Direct children of `pid`, by pid, with a short name from their command line."""
    found: dict[int, str] = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            if ppid != pid:
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        name = argv[1].decode() if len(argv) > 1 and argv[1] else argv[0].decode()
        found[int(entry.name)] = name
    return found


# --- the local control plane --------------------------------------------------


@dataclasses.dataclass(kw_only=True)
class Cluster:
    state_dir: pathlib.Path
    kubeconfig: pathlib.Path = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.kubeconfig = self.state_dir / "kubeconfig"

    def up(self, *, timeout: float = 300) -> float:
        if not CLUSTER_BIN.exists():
            raise BenchError(f"{CLUSTER_BIN} is missing: run `make cluster-bin` first")
        _cleanups.append(self.down)
        started = time.monotonic()
        result = subprocess.run(
            [str(CLUSTER_BIN), "up", "--dir", str(self.state_dir), "--load-test"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise BenchError(
                f"the local control plane did not start:\n{result.stdout}\n{result.stderr}"
            )
        return time.monotonic() - started

    def down(self) -> None:
        if self.down in _cleanups:
            _cleanups.remove(self.down)
        pid = self.supervisor_pid()
        try:
            result = subprocess.run(
                [str(CLUSTER_BIN), "down", "--dir", str(self.state_dir)],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            stopped = result.returncode == 0
            if not stopped:
                log(f"`conveyor-cluster down` failed: {result.stderr.strip()}")
        except subprocess.TimeoutExpired:
            log("`conveyor-cluster down` timed out")
            stopped = False
        if not stopped and pid is not None:
            # The supervisor leads its own process group: end all of it.
            log(f"killing the control plane's process group {pid}")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)

    def supervisor_pid(self) -> int | None:
        try:
            return int((self.state_dir / "supervisor.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def components(self) -> dict[int, str]:
        """The control plane's processes (etcd, kube-apiserver, ...), by pid."""
        pid = self.supervisor_pid()
        return children_of(pid) if pid is not None else {}

    def kubectl(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [str(CLUSTER_BIN), "kubectl", "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise BenchError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def install_crds(self) -> None:
        crds = str(ROOT / "crds")
        self.kubectl("apply", "--server-side", "-f", crds)
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", crds)


# --- the operator ---------------------------------------------------------------


class Operator:
    """`conveyor operator` as users run it: its own process, all namespaces."""

    def __init__(
        self,
        *,
        kubeconfig: pathlib.Path,
        log_path: pathlib.Path,
        profile: pathlib.Path | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.log_path = log_path
        self.profile = profile  # write a cProfile of each start here (.1, .2, ...)
        self.starts = 0
        self.metrics_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def pid(self) -> int:
        if self.process is None:
            raise BenchError("the operator is not running")
        return self.process.pid

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def start(self) -> float:
        """Start it; returns the monotonic time just before the process was spawned."""
        if self.alive():
            raise BenchError("the operator is already running")
        self.metrics_port = free_port()
        self.starts += 1
        args = [sys.executable]
        if self.profile is not None:
            args += ["-m", "cProfile", "-o", f"{self.profile}.{self.starts}"]
        args += ["-m", "conveyor.cli.main", "operator"]
        args += ["--metrics-port", str(self.metrics_port)]
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("ab") as out:
            out.write(f"\n===== operator start {time.strftime('%H:%M:%S')} =====\n".encode())
            out.flush()
            self.started_at = time.monotonic()
            self.process = subprocess.Popen(
                args,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=ROOT,
            )
        if self.stop not in _cleanups:
            _cleanups.append(self.stop)
        log(f"  operator started (pid {self.process.pid}, metrics port {self.metrics_port})")
        return self.started_at

    def wait_ready(self, *, timeout: float = 60) -> float:
        """Until /metrics answers; returns the monotonic time it first did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.metrics_url, timeout=2):
                    return time.monotonic()
            except OSError:
                if not self.alive():
                    raise BenchError(f"the operator exited; see {self.log_path}") from None
                time.sleep(0.05)
        raise BenchError(f"the operator did not serve /metrics within {timeout}s")

    def metrics(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        """Its /metrics, as {sample name: [(labels, value)]}."""
        return scrape(self.metrics_url)

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def settle(self, *, quiet: float = 0.05, window: float = 1.0, timeout: float = 30) -> float:
        return settle(self, quiet=quiet, window=window, timeout=timeout)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, *, timeout: float = 30) -> None:
        if self.stop in _cleanups:
            _cleanups.remove(self.stop)
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log("the operator ignored SIGTERM; killing its process group")
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=10)
        self.process = None


def settle(
    process: Measured, *, quiet: float = 0.05, window: float = 1.0, timeout: float = 30
) -> float:
    """Wait until `process` uses less than `quiet` CPU-seconds per `window`
    (idle), at most `timeout` seconds; returns the time waited."""
    started = time.monotonic()
    last = process.cpu()
    while time.monotonic() - started < timeout:
        time.sleep(window)
        now = process.cpu()
        if now - last < quiet:
            break
        last = now
    return time.monotonic() - started


def run_cleanups() -> None:
    """Stop everything still registered (operator, cluster), newest first."""
    _run_cleanups()


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU-seconds of the whole machine since boot, all cores."""
    fields = [int(v) for v in pathlib.Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


class Measured(Protocol):
    def alive(self) -> bool: ...
    def cpu(self) -> float: ...


class CpuMeter:
    """CPU-seconds used between `start()` and `stop()` by the controller (the
    operator, or Kueue: named `label`), each control plane component, the
    benchmark itself and the whole machine."""

    def __init__(
        self, *, operator: Measured | None, cluster: Cluster, label: str = "operator"
    ) -> None:
        self.operator = operator
        self.cluster = cluster
        self.label = label
        self._before: dict[str, float] = {}
        self._wall = 0.0

    def _sample(self) -> dict[str, float]:
        sample: dict[str, float] = {}
        if self.operator is not None and self.operator.alive():
            sample[self.label] = self.operator.cpu()
        for pid, name in self.cluster.components().items():
            with contextlib.suppress(OSError):
                sample[name] = cpu_seconds(pid)
        sample["bench"] = cpu_seconds(os.getpid())
        busy, total = machine_cpu()
        sample["machine busy"] = busy
        sample["machine total"] = total
        return sample

    def start(self) -> None:
        self._before = self._sample()
        self._wall = time.monotonic()

    def stop(self) -> dict[str, float]:
        after = self._sample()
        used = {k: round(v - self._before[k], 2) for k, v in after.items() if k in self._before}
        ours = sum(v for k, v in used.items() if not k.startswith("machine"))
        # Whatever else runs on the machine (it may be shared) competes for the cores.
        used["other processes"] = round(max(used.get("machine busy", 0.0) - ours, 0.0), 2)
        used["wall"] = round(time.monotonic() - self._wall, 2)
        return used
