"""Credentials as kubectl finds them, read with the official kubernetes
client's config loader: `--kubeconfig`, else the KUBECONFIG list (merged,
missing files skipped), else ~/.kube/config, else the in-cluster
ServiceAccount. Tokens, tokenFile, client certificates, basic auth, auth
providers, proxy-url and exec plugins (run by exec_plugin).

Expiring credentials are loaded again: when an exec credential's
expirationTimestamp passes, and after a 401 (`Source.renew`).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import pathlib
import ssl
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import kubernetes.client
import kubernetes.config
from kubernetes.config import kube_config

from conveyor.k8s import exec_plugin

NO_KUBECONFIG = "no kubeconfig: set KUBECONFIG or use --kubeconfig"
DEFAULT_KUBECONFIG = "~/.kube/config"
SA_DIR = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount")
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
    and the last ones loaded. Thread-safe: kopf logs in from a thread."""

    def __init__(self, *, kubeconfig: str | None = None, context: str | None = None) -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self._lock = threading.Lock()
        self._current: Credentials | None = None

    def current(self) -> Credentials:
        """The credentials, loaded again when they have expired."""
        with self._lock:
            now = datetime.datetime.now(datetime.UTC)
            if self._current is None or self._current.expired(now=now):
                self._current = load(kubeconfig=self.kubeconfig, context=self.context)
            return self._current

    def renew(self, *, stale: Credentials | None) -> Credentials:
        """After a 401 with `stale`: load again, unless another caller already did."""
        with self._lock:
            if self._current is None or self._current is stale:
                self._current = load(kubeconfig=self.kubeconfig, context=self.context)
            return self._current


def load(*, kubeconfig: str | None = None, context: str | None = None) -> Credentials:
    files = kubeconfig_files(path=kubeconfig, listed=os.environ.get("KUBECONFIG", ""))
    if files:
        return from_kubeconfig(files=files, context=context)
    if context:
        raise LoginError(f"context {context!r} not found: {NO_KUBECONFIG}")
    if os.environ.get("KUBERNETES_SERVICE_HOST") and (SA_DIR / "token").exists():
        return in_cluster()
    raise LoginError(NO_KUBECONFIG)


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


def from_kubeconfig(*, files: Sequence[str], context: str | None) -> Credentials:
    try:
        merger = kube_config.KubeConfigMerger(os.pathsep.join(files))
    except (OSError, ValueError, kubernetes.config.ConfigException) as exc:
        raise LoginError(f"cannot read kubeconfig {files[0]}: {exc}") from None
    if merger.config is None:
        raise LoginError(f"kubeconfig {files[0]} is empty")
    name = context or current_context([merger.config_files.get(p) for p in merger.paths])
    if not name:
        raise LoginError(f"kubeconfig {files[0]} has no current-context: use --context")
    contexts = {str(c.get("name")): c for c in _contexts(merger)}
    if name not in contexts:
        raise LoginError(f"context {name!r} not found in kubeconfig {', '.join(files)}")
    config = kubernetes.client.Configuration()
    try:
        loader = _Loader(config_dict=merger.config, active_context=name, config_base_path=None)
        loader.load_and_set(config)
        authorization = config.get_api_key_with_prefix("BearerToken")
    except exec_plugin.PluginError as exc:
        raise LoginError(f"context {name}: {exc}") from None
    except (OSError, ValueError, KeyError, TypeError, kubernetes.config.ConfigException) as exc:
        raise LoginError(
            f"cannot use context {name} of kubeconfig {files[0]}: {_why(exc)}"
        ) from None
    expiry = getattr(loader, "expiry", None)
    return _credentials(
        config,
        namespace=str((contexts[name].get("context") or {}).get("namespace") or "default"),
        context=name,
        authorization=authorization,
        expires=expiry if isinstance(expiry, datetime.datetime) else None,
    )


def context_names(*, kubeconfig: str | None) -> list[str]:
    """The contexts of the kubeconfig(s) in use, for completion."""
    files = kubeconfig_files(path=kubeconfig, listed=os.environ.get("KUBECONFIG", ""))
    if not files:
        return []
    return [
        str(c.get("name")) for c in _contexts(kube_config.KubeConfigMerger(os.pathsep.join(files)))
    ]


def _contexts(merger: Any) -> list[dict[str, Any]]:
    if merger.config is None:
        return []
    nodes = merger.config.value.get("contexts") or ()
    return [n.value if isinstance(n, kube_config.ConfigNode) else dict(n) for n in nodes]


def in_cluster() -> Credentials:
    """The pod's ServiceAccount; the library re-reads the rotated token file."""
    config = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_incluster_config(client_configuration=config)
    except kubernetes.config.ConfigException as exc:
        raise LoginError(f"in-cluster: {exc}") from None
    namespace_file = SA_DIR / "namespace"
    namespace = os.environ.get("POD_NAMESPACE") or (
        namespace_file.read_text().strip() if namespace_file.exists() else "default"
    )
    return _credentials(
        config,
        namespace=namespace,
        context=None,
        authorization=config.get_api_key_with_prefix("BearerToken")
        or config.get_api_key_with_prefix("authorization"),
        expires=None,
    )


def _credentials(
    config: Any,
    *,
    namespace: str,
    context: str | None,
    authorization: str | None,
    expires: datetime.datetime | None,
) -> Credentials:
    if not config.host:
        raise LoginError(f"context {context}: its cluster has no server")
    if config.proxy and not str(config.proxy).startswith(("http://", "https://")):
        # aiohttp speaks to HTTP(S) proxies only; say so rather than fail obscurely.
        raise LoginError(f"context {context}: proxy-url {config.proxy}: only http(s) proxies work")
    return Credentials(
        server=str(config.host),
        namespace=namespace,
        context=context,
        ca_path=config.ssl_ca_cert or None,
        insecure=not config.verify_ssl,
        tls_server_name=config.tls_server_name or None,
        certificate_path=config.cert_file or None,
        private_key_path=config.key_file or None,
        # Stripped: a tokenFile usually ends in a newline (client-go trims it, the library not).
        authorization=(authorization or "").strip() or None,
        proxy=config.proxy or None,
        expires=expires,
    )


class _Loader(kube_config.KubeConfigLoader):  # type: ignore[misc]
    """The library's loader with its exec step replaced by exec_plugin (which
    honours interactiveMode and reports why a plugin failed, where the
    library's logs the error and carries on unauthenticated)."""

    def _load_from_exec_plugin(self) -> bool | None:
        if "exec" not in self._user:
            return None
        base = pathlib.Path(self._get_base_path(self._cluster.path) or ".")
        status = exec_plugin.run(
            config=self._user["exec"].value, cluster=self._cluster.value, base=base
        )
        if status.get("token"):
            self.token = f"Bearer {status['token']}"
        else:
            for attr, key in (
                ("cert_file", "clientCertificateData"),
                ("key_file", "clientKeyData"),
            ):
                data = kube_config.FileOrData(
                    status, None, data_key_name=key, base64_file_content=False
                )
                setattr(self, attr, data.as_file())
        if status.get("expirationTimestamp"):
            self.expiry = kube_config.parse_rfc3339(status["expirationTimestamp"])
        return True


def _why(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"it names {exc.args[0]!r}, which it does not define"
    return str(exc) or type(exc).__name__
