"""The official kubernetes client's kubeconfig and in-cluster loaders, behind
login.load: the only module that imports the `kubernetes` package.

The operator runs this module as a child process (`python -m
conveyor.k8s.kubeconfig`, login.Source(isolated=True)): the package costs
about 20 MiB and 0.3 CPU-s to import, and kopf imports it whenever it is
installed, so the operator keeps it out of its own process. The child prints
one JSON object, the credentials with the contents of their CA, certificate
and key (the library's temporary files go with the child), or the error.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import pathlib
import sys
from collections.abc import Sequence
from typing import Any

import kubernetes.client
import kubernetes.config
from kubernetes.config import kube_config

from conveyor.k8s import exec_plugin, login


def from_kubeconfig(*, files: Sequence[str], context: str | None) -> login.Credentials:
    try:
        merger = kube_config.KubeConfigMerger(os.pathsep.join(files))
    except (OSError, ValueError, kubernetes.config.ConfigException) as exc:
        raise login.LoginError(f"cannot read kubeconfig {files[0]}: {exc}") from None
    if merger.config is None:
        raise login.LoginError(f"kubeconfig {files[0]} is empty")
    name = context or login.current_context([merger.config_files.get(p) for p in merger.paths])
    if not name:
        raise login.LoginError(f"kubeconfig {files[0]} has no current-context: use --context")
    contexts = {str(c.get("name")): c for c in _contexts(merger)}
    if name not in contexts:
        raise login.LoginError(f"context {name!r} not found in kubeconfig {', '.join(files)}")
    config = kubernetes.client.Configuration()
    try:
        loader = _Loader(config_dict=merger.config, active_context=name, config_base_path=None)
        loader.load_and_set(config)
        authorization = config.get_api_key_with_prefix("BearerToken")
    except exec_plugin.PluginError as exc:
        raise login.LoginError(f"context {name}: {exc}") from None
    except (OSError, ValueError, KeyError, TypeError, kubernetes.config.ConfigException) as exc:
        raise login.LoginError(
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
    files = login.kubeconfig_files(path=kubeconfig, listed=os.environ.get("KUBECONFIG", ""))
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


def in_cluster() -> login.Credentials:
    """The pod's ServiceAccount; the library re-reads the rotated token file."""
    config = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_incluster_config(client_configuration=config)
    except kubernetes.config.ConfigException as exc:
        raise login.LoginError(f"in-cluster: {exc}") from None
    namespace_file = login.SA_DIR / "namespace"
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
) -> login.Credentials:
    if not config.host:
        raise login.LoginError(f"context {context}: its cluster has no server")
    if config.proxy and not str(config.proxy).startswith(("http://", "https://")):
        # aiohttp speaks to HTTP(S) proxies only; say so rather than fail obscurely.
        raise login.LoginError(
            f"context {context}: proxy-url {config.proxy}: only http(s) proxies work"
        )
    return login.Credentials(
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


# --- the child process -------------------------------------------------------
def encode(creds: login.Credentials) -> dict[str, Any]:
    """The credentials as JSON, each file's path replaced by its contents."""
    fields: dict[str, Any] = {
        f.name: getattr(creds, f.name)
        for f in dataclasses.fields(creds)
        if f.name not in login.CHILD_FILES
    }
    fields["expires"] = creds.expires.isoformat() if creds.expires else None
    for attr, key in login.CHILD_FILES.items():
        path = getattr(creds, attr)
        fields[key] = pathlib.Path(path).read_text() if path else None
    return fields


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conveyor.k8s.kubeconfig")
    parser.add_argument("--kubeconfig")
    parser.add_argument("--context")
    args = parser.parse_args(argv)
    try:
        creds = login.load(kubeconfig=args.kubeconfig, context=args.context)
        answer: dict[str, Any] = {"credentials": encode(creds)}
    except (login.LoginError, OSError) as exc:
        answer = {"error": str(exc)}
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
