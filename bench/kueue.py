"""Kueue, the peer: its configuration, its queue objects and its process.

Kueue v0.17 (`make kueue-bin`: `go install sigs.k8s.io/kueue/cmd/kueue@v0.17.0`)
runs as a local process against the benchmark's control plane, as the
operator does: no webhooks registered with the API server, no internal cert
management, no leader election, Job integration only. Its CRDs are applied
from the Go module cache, never copied into this repository.

With internal cert management off Kueue reads its metrics certificate from a
fixed path, /etc/kueue/metrics/certs. The process therefore runs in a private
mount namespace whose /etc is an overlay holding a self-signed certificate;
nothing outside that process sees it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pathlib
import signal
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

from bench import infra
from conveyor.k8s import api

KUEUE_BIN = infra.ROOT / "e2e" / "bin" / "kueue"
DEFAULT_VERSION = "v0.17.0"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
GROUP_VERSION = "kueue.x-k8s.io/v1beta2"
WORKLOADS = api.Resource(group="kueue.x-k8s.io", version="v1beta2", plural="workloads")
FINALIZER = "kueue.x-k8s.io/resource-in-use"
# Kueue's recorders' names (source.component) all have this in them:
# "kueue-admission", "batch/job-kueue-controller", ...
COMPONENT_MARK = "kueue"

# Kueue's shipped controller_manager_config.yaml (config/components/manager).
SHIPPED_CONCURRENCY = {
    "Job.batch": 5,
    "Pod": 5,
    "Workload.kueue.x-k8s.io": 5,
    "LocalQueue.kueue.x-k8s.io": 1,
    "Cohort.kueue.x-k8s.io": 1,
    "ClusterQueue.kueue.x-k8s.io": 1,
    "ResourceFlavor.kueue.x-k8s.io": 1,
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    name: str
    qps: float
    burst: int
    workers: int  # Job and Workload reconcilers

    def concurrency(self) -> dict[str, int]:
        return SHIPPED_CONCURRENCY | {
            "Job.batch": self.workers,
            "Workload.kueue.x-k8s.io": self.workers,
        }


SHIPPED = Settings(name="shipped", qps=50, burst=100, workers=5)
# No client-side rate limit to speak of, and as many workers as Conveyor's
# control loop could want: the comparison should not be lost to a setting.
TUNED = Settings(name="tuned", qps=100000, burst=100000, workers=50)


def configuration(
    *, settings: Settings, metrics_port: int, health_port: int, webhook_port: int, cert_dir: str
) -> dict[str, Any]:
    """Kueue's Configuration (config.kueue.x-k8s.io/v1beta2) for one process."""
    return {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": f"127.0.0.1:{health_port}"},
        "metrics": {"bindAddress": f"127.0.0.1:{metrics_port}"},
        # Serves nothing anyone calls (no webhook configurations exist), but
        # Kueue registers its handlers, so the server needs a port and a cert.
        "webhook": {"host": "127.0.0.1", "port": webhook_port, "certDir": cert_dir},
        "leaderElection": {"leaderElect": False},
        "internalCertManagement": {"enable": False},
        "manageJobsWithoutQueueName": False,
        "controller": {"groupKindConcurrency": settings.concurrency()},
        "clientConnection": {"qps": settings.qps, "burst": settings.burst},
        "integrations": {"frameworks": ["batch/job"]},
        # Its own API server (on a fixed port, with certs from /visibility).
        "featureGates": {"VisibilityOnDemand": False},
    }


def queue_objects(*, name: str, namespace: str, slots: int) -> list[tuple[str, dict[str, Any]]]:
    """(API path, body) of a ResourceFlavor, a ClusterQueue admitting `slots`
    pods of `namespace` at once, and that namespace's LocalQueue, in order."""
    base = f"/apis/{GROUP_VERSION}"
    flavor = {
        "apiVersion": GROUP_VERSION,
        "kind": "ResourceFlavor",
        "metadata": {"name": name},
    }
    cluster_queue = {
        "apiVersion": GROUP_VERSION,
        "kind": "ClusterQueue",
        "metadata": {"name": name},
        "spec": {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
            # Kueue counts a pod as one "pods" when the queue covers it: the
            # Jobs need no made-up requests, they are the baseline's.
            "resourceGroups": [
                {
                    "coveredResources": ["pods"],
                    "flavors": [
                        {"name": name, "resources": [{"name": "pods", "nominalQuota": slots}]}
                    ],
                }
            ],
        },
    }
    local_queue = {
        "apiVersion": GROUP_VERSION,
        "kind": "LocalQueue",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"clusterQueue": name},
    }
    return [
        (f"{base}/resourceflavors", flavor),
        (f"{base}/clusterqueues", cluster_queue),
        (f"{base}/namespaces/{namespace}/localqueues", local_queue),
    ]


def queued(job: Mapping[str, Any], *, queue: str) -> dict[str, Any]:
    """The Job for Kueue: created suspended, labelled with its LocalQueue."""
    body: dict[str, Any] = json.loads(json.dumps(job))
    body["metadata"].setdefault("labels", {})[QUEUE_LABEL] = queue
    body["spec"]["suspend"] = True
    return body


def active(conditions: Iterable[Mapping[str, Any]], type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in conditions)


# What the API server counts as writes (apiserver_request_total's verbs:
# create is POST, update PUT, a server-side apply APPLY).
WRITE_VERBS = ("POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION")


def server_writes(samples: Mapping[str, list[tuple[dict[str, str], float]]]) -> dict[str, float]:
    """The API server's apiserver_request_total writes, as
    {"VERB group/resource[/subresource]": count}."""
    counts: dict[str, float] = {}
    for labels, value in samples.get("apiserver_request_total", ()):
        verb = labels.get("verb", "")
        if verb not in WRITE_VERBS:
            continue
        key = f"{verb} {labels.get('group', '')}/{labels.get('resource', '')}"
        if labels.get("subresource"):
            key += f"/{labels['subresource']}"
        counts[key] = counts.get(key, 0.0) + value
    return counts


def own(key: str) -> bool:
    """A write only Kueue makes here: to its own resources, or to a Job other
    than its creation (the benchmark's) and its status (the Job controller's)."""
    verb, _, target = key.partition(" ")
    if target.startswith("kueue.x-k8s.io/"):
        return True
    return target == "batch/jobs" and verb != "POST"


def kueue_writes(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """Kueue's writes between two scrapes of the API server, by kind (Events apart)."""
    deltas = {k: v - before.get(k, 0.0) for k, v in after.items() if own(k)}
    return {k: v for k, v in sorted(deltas.items()) if v}


def crd_dir(version: str) -> pathlib.Path:
    """Kueue's CRDs in the Go module cache (`make kueue-bin` puts them there)."""
    modcache = subprocess.run(
        ["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=False
    ).stdout.strip()
    path = pathlib.Path(modcache) / f"sigs.k8s.io/kueue@{version}/config/components/crd/bases"
    if not modcache or not path.is_dir():
        raise infra.BenchError(
            f"Kueue's CRDs are not in the Go module cache ({path}): run `make kueue-bin`"
        )
    return path


def self_signed(directory: pathlib.Path) -> None:
    """tls.crt and tls.key for 127.0.0.1 (Kueue's webhook and metrics servers)."""
    directory.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(directory / "tls.key"), "-out", str(directory / "tls.crt")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise infra.BenchError(f"openssl could not make a certificate: {result.stderr.strip()}")


# Runs as `sh -c SCRIPT sh OVERLAY CERTS BINARY CONFIG` inside `unshare --mount`.
_IN_NAMESPACE = (
    'mount -t tmpfs tmpfs "$1" && mkdir -p "$1/up/kueue/metrics/certs" "$1/work" && '
    'cp "$2/tls.crt" "$2/tls.key" "$1/up/kueue/metrics/certs/" && '
    'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/up,workdir=$1/work" /etc && '
    'exec "$3" --config "$4"'
)


class Kueue:
    """One Kueue process with one configuration; `alive()` and `cpu()` as the
    operator's, so `infra.CpuMeter` measures either."""

    def __init__(
        self, *, settings: Settings, kubeconfig: pathlib.Path, work: pathlib.Path, token: str
    ) -> None:
        self.settings = settings
        self.kubeconfig = kubeconfig
        self.work = work
        self.token = token
        self.log_path = work / "kueue.log"
        self.metrics_port = infra.free_port()
        self.health_port = infra.free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if not KUEUE_BIN.exists():
            raise infra.BenchError(f"{KUEUE_BIN} is missing: run `make kueue-bin` first")
        certs, overlay = self.work / "certs", self.work / "etc-overlay"
        self_signed(certs)
        overlay.mkdir(parents=True, exist_ok=True)
        config = configuration(
            settings=self.settings,
            metrics_port=self.metrics_port,
            health_port=self.health_port,
            webhook_port=infra.free_port(),
            cert_dir=str(certs),
        )
        config_path = self.work / "config.json"
        config_path.write_text(json.dumps(config, indent=2) + "\n")
        # Root may mount in a mount namespace of its own; anyone else needs a
        # user namespace too.
        unshare = ["unshare", "--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            unshare[1:1] = ["--user", "--map-root-user"]
        args = [*unshare, "sh", "-c", _IN_NAMESPACE, "sh"]
        args += [str(overlay), str(certs), str(KUEUE_BIN), str(config_path)]
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        infra.on_exit(self.stop)
        infra.log(f"  kueue ({self.settings.name}) started (pid {self.process.pid})")

    @property
    def pid(self) -> int:
        if self.process is None:
            raise infra.BenchError("kueue is not running")
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def cpu(self) -> float:
        return infra.cpu_seconds(self.pid)

    def rss(self) -> int:
        return infra.rss_bytes(self.pid)

    def wait_ready(self, *, timeout: float = 120) -> None:
        """Until /readyz answers 200 (the manager and its webhook server are up)."""
        url = f"http://127.0.0.1:{self.health_port}/readyz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise infra.BenchError(f"kueue exited; see {self.log_path}")
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
            time.sleep(0.2)
        raise infra.BenchError(f"kueue was not ready within {timeout}s; see {self.log_path}")

    def metrics(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        """Its /metrics (HTTPS, self-signed; Kueue checks the bearer token
        with a TokenReview and a SubjectAccessReview)."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.metrics_port}/metrics",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        return infra.scrape(request, context=context)

    def stop(self, *, timeout: float = 30) -> None:
        infra.forget(self.stop)
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=10)
        self.process = None
