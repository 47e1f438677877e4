"""Credentials as kubectl finds them, read with the official kubernetes
client's config loader: `--kubeconfig`, else the KUBECONFIG list (merged,
missing files skipped), else ~/.kube/config, else the in-cluster
ServiceAccount. Tokens, tokenFile, client certificates, basic auth, auth
providers, proxy-url and exec plugins (run by exec_plugin).

Expiring credentials are loaded again: when an exec credential's
expirationTimestamp passes, and after a 401 (`Source.renew`).

The loader itself is conveyor.k8s.kubeconfig, imported only when used: the
operator runs it in a child process (`Source(isolated=True)`) to keep the
kubernetes package out of its own memory.
"""

from __future__ import annotations

import atexit
import dataclasses
import datetime
import hashlib
import json
import os
import pathlib
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from typing import Any

NO_KUBECONFIG = "no kubeconfig: set KUBECONFIG or use --kubeconfig"
DEFAULT_KUBECONFIG = "~/.kube/config"
SA_DIR = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount")
# How long the child loader may take (an exec plugin included).
CHILD_TIMEOUT = 120.0
# Load again this long before an exec credential expires, as client-go does.
EXPIRY_SKEW = datetime.timedelta(seconds=10)


class LoginError(Exception):
    """No usable credentials; the message says what is missing."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Credentials:
    server: str
    namespace: str  # the context's namespace (or the pod's), else "default"
    context: str | None = None  # None: in-cluster
    ca_path: str | None = None
    insecure: bool = False
    tls_server_name: str | None = None
    certificate_path: str | None = None
    private_key_path: str | None = None
    authorization: str | None = None  # the Authorization header: "Bearer ...", "Basic ..."
    proxy: str | None = None
    expires: datetime.datetime | None = None

    def expired(self, *, now: datetime.datetime) -> bool:
        return self.expires is not None and now >= self.expires - EXPIRY_SKEW

    def tls(self) -> tuple[object, ...]:
        """What a connection depends on: a change needs a new connection pool."""
        return (
            self.server,
            self.ca_path,
            self.insecure,
            self.certificate_path,
            self.private_key_path,
        )

    def ssl_context(self) -> ssl.SSLContext | bool:
        if not self.server.startswith("https"):
            return False
        context = ssl.create_default_context(cafile=self.ca_path)
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.certificate_path:
            context.load_cert_chain(self.certificate_path, self.private_key_path)
        return context


class Source:
    """Where credentials come from (what --kubeconfig and --context chose),
    and the last ones loaded. Thread-safe: kopf logs in from a thread.

    isolated: load in a child process (conveyor.k8s.kubeconfig), whose CA,
    certificate and key land in a private directory of this process."""

    def __init__(
        self, *, kubeconfig: str | None = None, context: str | None = None, isolated: bool = False
    ) -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self._lock = threading.Lock()
        self._current: Credentials | None = None
        self._child = _Child(kubeconfig=kubeconfig, context=context) if isolated else None

    def prefetch(self) -> None:
        """Start an isolated first load now, to run beside the caller's imports."""
        if self._child is not None:
            self._child.start()

    def current(self) -> Credentials:
        """The credentials, loaded again when they have expired."""
        with self._lock:
            now = datetime.datetime.now(datetime.UTC)
            if self._current is None or self._current.expired(now=now):
                self._current = self._load()
            return self._current

    def renew(self, *, stale: Credentials | None) -> Credentials:
        """After a 401 with `stale`: load again, unless another caller already did."""
        with self._lock:
            if self._current is None or self._current is stale:
                self._current = self._load()
            return self._current

    def _load(self) -> Credentials:
        if self._child is not None:
            return self._child.load()
        return load(kubeconfig=self.kubeconfig, context=self.context)


class _Child:
    """Loads in `python -m conveyor.k8s.kubeconfig`; at most one started ahead."""

    def __init__(self, *, kubeconfig: str | None, context: str | None) -> None:
        self._command = [sys.executable, "-m", "conveyor.k8s.kubeconfig"]
        self._command += ["--kubeconfig", kubeconfig] if kubeconfig else []
        self._command += ["--context", context] if context else []
        self._pending: subprocess.Popen[str] | None = None
        self._files: pathlib.Path | None = None

    def start(self) -> None:
        if self._pending is None:
            self._pending = subprocess.Popen(self._command, stdout=subprocess.PIPE, text=True)

    def load(self) -> Credentials:
        self.start()
        child, self._pending = self._pending, None
        assert child is not None
        try:
            out, _ = child.communicate(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise LoginError(f"loading credentials took over {CHILD_TIMEOUT:.0f} s") from None
        try:
            answer = json.loads(out)
        except ValueError:
            raise LoginError(f"the credentials loader failed (exit {child.returncode})") from None
        if "error" in answer:
            raise LoginError(str(answer["error"]))
        return self._decode(answer["credentials"])

    def _decode(self, fields: dict[str, Any]) -> Credentials:
        files: dict[str, Any] = {a: self._file(fields.pop(k)) for a, k in CHILD_FILES.items()}
        expires = fields.pop("expires")
        return Credentials(
            **fields,
            **files,
            expires=datetime.datetime.fromisoformat(expires) if expires else None,
        )

    def _file(self, content: str | None) -> str | None:
        """A private file with `content`, named by its digest (renewals add files)."""
        if content is None:
            return None
        if self._files is None:
            self._files = pathlib.Path(tempfile.mkdtemp(prefix="conveyor-login-"))
            atexit.register(shutil.rmtree, self._files, ignore_errors=True)
        path = self._files / hashlib.sha256(content.encode()).hexdigest()[:32]
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(content)
        return str(path)


# Credentials' file paths and the child's keys for their contents.
CHILD_FILES = {
    "ca_path": "ca",
    "certificate_path": "certificate",
    "private_key_path": "private_key",
}


def load(*, kubeconfig: str | None = None, context: str | None = None) -> Credentials:
    """Load in this process."""
    from conveyor.k8s import kubeconfig as loader  # see context_names

    files = kubeconfig_files(path=kubeconfig, listed=os.environ.get("KUBECONFIG", ""))
    if files:
        return loader.from_kubeconfig(files=files, context=context)
    if context:
        raise LoginError(f"context {context!r} not found: {NO_KUBECONFIG}")
    if os.environ.get("KUBERNETES_SERVICE_HOST") and (SA_DIR / "token").exists():
        return loader.in_cluster()
    raise LoginError(NO_KUBECONFIG)


def context_names(*, kubeconfig: str | None) -> list[str]:
    """The contexts of the kubeconfig(s) in use, for completion."""
    # Imported when used: it imports the kubernetes package, which the
    # operator's own process does without.
    from conveyor.k8s import kubeconfig as loader

    return loader.context_names(kubeconfig=kubeconfig)


def kubeconfig_files(*, path: str | None, listed: str) -> list[str]:
    """The kubeconfig files to merge, first first; [] when there are none."""
    if path:
        if not pathlib.Path(path).expanduser().is_file():
            raise LoginError(f"no kubeconfig: {path} does not exist")
        return [str(pathlib.Path(path).expanduser())]
    if listed:
        names = [p.strip() for p in listed.split(os.pathsep) if p.strip()]
        found = [str(pathlib.Path(p).expanduser()) for p in names]
        found = [p for p in found if pathlib.Path(p).is_file()]
        if not found:
            raise LoginError(
                f"no kubeconfig: KUBECONFIG names {listed}, which does not exist; "
                "set KUBECONFIG or use --kubeconfig"
            )
        return found
    default = pathlib.Path(DEFAULT_KUBECONFIG).expanduser()
    return [str(default)] if default.is_file() else []


def current_context(configs: Sequence[Mapping[str, Any] | None]) -> str | None:
    """The first file's current-context wins, as kubectl merges (the client's
    merger keeps the last)."""
    for config in configs:
        name = (config or {}).get("current-context")
        if name:
            return str(name)
    return None
