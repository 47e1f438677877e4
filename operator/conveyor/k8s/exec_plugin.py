"""Exec credential plugins as client-go runs them (`users[].user.exec`: EKS
`aws eks get-token`, GKE `gke-gcloud-auth-plugin`, AKS `kubelogin`, OIDC
`kubectl oidc-login`).

The kubernetes client's own runner decides "interactive" from stdout and
ignores `interactiveMode`; this one follows the contract: the plugin gets
KUBERNETES_EXEC_INFO (apiVersion, kind, spec.interactive, spec.cluster with
`provideClusterInfo`), standard input only when interactive, and the user's
standard error always (its prompts and messages are the user's to read).
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
# What client-go passes in spec.cluster, by kubeconfig key.
CLUSTER_KEYS = (
    "server",
    "tls-server-name",
    "insecure-skip-tls-verify",
    "certificate-authority-data",
    "proxy-url",
    "disable-compression",
)
CLUSTER_CONFIG_EXTENSION = "client.authentication.k8s.io/exec"


class PluginError(Exception):
    """The plugin could not be run or gave no usable credential."""


def is_interactive(*, mode: str, stdin_is_terminal: bool) -> bool:
    """Whether the plugin may talk to the user, per its interactiveMode."""
    if mode not in INTERACTIVE_MODES:
        raise PluginError(f"interactiveMode {mode!r} is not one of {', '.join(INTERACTIVE_MODES)}")
    if mode == "Never":
        return False
    if mode == "Always" and not stdin_is_terminal:
        raise PluginError(
            "interactiveMode is Always, but standard input is not a terminal: "
            "run the command in a terminal"
        )
    return stdin_is_terminal


def cluster_info(*, cluster: Mapping[str, Any], base: pathlib.Path) -> dict[str, Any]:
    """spec.cluster: the kubeconfig cluster's connection details, the CA as
    data, and the plugin's own config from the cluster's extensions."""
    info = {key: cluster[key] for key in CLUSTER_KEYS if key in cluster}
    ca_file = cluster.get("certificate-authority")
    if ca_file and "certificate-authority-data" not in info:
        data = (base / str(ca_file)).read_bytes()
        info["certificate-authority-data"] = base64.b64encode(data).decode()
    for extension in cluster.get("extensions") or ():
        if extension.get("name") == CLUSTER_CONFIG_EXTENSION:
            info["config"] = extension.get("extension")
    return info


def exec_info(
    *, config: Mapping[str, Any], cluster: Mapping[str, Any] | None, interactive: bool
) -> dict[str, Any]:
    """The KUBERNETES_EXEC_INFO document for one run."""
    spec: dict[str, Any] = {"interactive": interactive}
    if cluster is not None:
        spec["cluster"] = dict(cluster)
    return {"apiVersion": config.get("apiVersion"), "kind": "ExecCredential", "spec": spec}


def command_line(*, config: Mapping[str, Any], base: pathlib.Path) -> list[str]:
    """The command and args; a relative path with a slash is relative to the
    kubeconfig's directory, as client-go resolves it."""
    command = str(config.get("command") or "")
    if not command:
        raise PluginError("exec: no command")
    if os.sep in command and not os.path.isabs(command):
        command = str(base / command)
    return [command, *(str(a) for a in config.get("args") or ())]


def run(
    *,
    config: Mapping[str, Any],
    cluster: Mapping[str, Any],
    base: pathlib.Path,
    stdin_is_terminal: bool | None = None,
) -> dict[str, Any]:
    """Run the plugin; its ExecCredential status (token or client certificate,
    maybe expirationTimestamp)."""
    api_version = config.get("apiVersion")
    if not api_version:
        raise PluginError("exec: no apiVersion")
    terminal = sys.stdin.isatty() if stdin_is_terminal is None else stdin_is_terminal
    interactive = is_interactive(
        mode=str(config.get("interactiveMode") or "IfAvailable"), stdin_is_terminal=terminal
    )
    wanted = cluster_info(cluster=cluster, base=base) if config.get("provideClusterInfo") else None
    env = dict(os.environ)
    env.update({str(e["name"]): str(e["value"]) for e in config.get("env") or ()})
    env["KUBERNETES_EXEC_INFO"] = json.dumps(
        exec_info(config=config, cluster=wanted, interactive=interactive)
    )
    args = command_line(config=config, base=base)
    try:
        done = subprocess.run(
            args,
            env=env,
            stdin=None if interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            check=False,
        )
    except OSError as exc:
        hint = config.get("installHint")
        raise PluginError(f"exec plugin {args[0]}: {exc.strerror or exc}" + _hint(hint)) from None
    if done.returncode != 0:
        raise PluginError(f"exec plugin {args[0]} failed with exit code {done.returncode}")
    return status_of(output=done.stdout, api_version=str(api_version), command=args[0])


def status_of(*, output: bytes, api_version: str, command: str) -> dict[str, Any]:
    """The credential from the plugin's output, checked."""
    try:
        data = json.loads(output)
    except ValueError as exc:
        raise PluginError(f"exec plugin {command} printed no ExecCredential: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") != "ExecCredential":
        raise PluginError(f"exec plugin {command} printed no ExecCredential")
    if data.get("apiVersion") != api_version:
        raise PluginError(
            f"exec plugin {command} answered {data.get('apiVersion')}, not {api_version}"
        )
    status = data.get("status")
    if not isinstance(status, dict):
        raise PluginError(f"exec plugin {command} gave no status")
    has_cert = bool(status.get("clientCertificateData")) and bool(status.get("clientKeyData"))
    if not status.get("token") and not has_cert:
        raise PluginError(
            f"exec plugin {command} gave neither a token nor a client certificate and key"
        )
    return status


def _hint(hint: object) -> str:
    return f"\n{hint}" if hint else ""
