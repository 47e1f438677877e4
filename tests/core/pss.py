"""A small checker of the Pod Security Standards (Kubernetes' baseline and
restricted profiles, as of v1.30+) over a pod spec: the rules PodSecurity
admission applies, written out so the rendered Jobs can be checked without
a cluster. `violations` names each broken rule with the container at fault."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
        "image",
    }
)


def _containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(field) or []:
            yield f"{field}[{container.get('name')}]", container


def baseline(spec: Mapping[str, Any], metadata: Mapping[str, Any] | None = None) -> list[str]:
    found = [
        f"{name} must not be true"
        for name in ("hostNetwork", "hostPID", "hostIPC")
        if spec.get(name)
    ]
    pod_ctx = spec.get("securityContext") or {}
    found += [
        f"volumes[{v.get('name')}]: hostPath" for v in spec.get("volumes") or [] if "hostPath" in v
    ]
    found += [
        f"sysctl {s.get('name')} is not safe"
        for s in pod_ctx.get("sysctls") or []
        if s.get("name") not in SAFE_SYSCTLS
    ]
    if (pod_ctx.get("seccompProfile") or {}).get("type") == "Unconfined":
        found.append("securityContext: seccompProfile Unconfined")
    if (pod_ctx.get("appArmorProfile") or {}).get("type") == "Unconfined":
        found.append("securityContext: appArmorProfile Unconfined")
    for key, value in ((metadata or {}).get("annotations") or {}).items():
        if (
            key.startswith("container.apparmor.security.beta.kubernetes.io/")
            and value == "unconfined"
        ):
            found.append(f"annotation {key}: unconfined")
    for where, container in _containers(spec):
        ctx = container.get("securityContext") or {}
        if ctx.get("privileged"):
            found.append(f"{where}: privileged")
        if (ctx.get("windowsOptions") or {}).get("hostProcess"):
            found.append(f"{where}: hostProcess")
        extra = set((ctx.get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
        if extra:
            found.append(f"{where}: capabilities {sorted(extra)} added")
        if any(p.get("hostPort") for p in container.get("ports") or []):
            found.append(f"{where}: hostPort")
        if ctx.get("procMount") not in (None, "Default"):
            found.append(f"{where}: procMount {ctx['procMount']}")
        if (ctx.get("seccompProfile") or {}).get("type") == "Unconfined":
            found.append(f"{where}: seccompProfile Unconfined")
        if (ctx.get("appArmorProfile") or {}).get("type") == "Unconfined":
            found.append(f"{where}: appArmorProfile Unconfined")
    return found


def restricted(spec: Mapping[str, Any], metadata: Mapping[str, Any] | None = None) -> list[str]:
    found = baseline(spec, metadata)
    pod_ctx = spec.get("securityContext") or {}
    found += [
        f"volumes[{v.get('name')}]: type not allowed"
        for v in spec.get("volumes") or []
        if not set(v) - {"name"} <= RESTRICTED_VOLUMES
    ]
    if pod_ctx.get("runAsUser") == 0:
        found.append("securityContext: runAsUser 0")
    pod_seccomp = (pod_ctx.get("seccompProfile") or {}).get("type")
    for where, container in _containers(spec):
        ctx = container.get("securityContext") or {}
        if ctx.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where}: allowPrivilegeEscalation must be false")
        if ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is not True:
            found.append(f"{where}: runAsNonRoot must be true")
        if ctx.get("runAsUser") == 0:
            found.append(f"{where}: runAsUser 0")
        if ctx.get("seccompProfile", {}).get("type", pod_seccomp) not in (
            "RuntimeDefault",
            "Localhost",
        ):
            found.append(f"{where}: seccompProfile must be RuntimeDefault or Localhost")
        capabilities = ctx.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f"{where}: capabilities must drop ALL")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"{where}: only NET_BIND_SERVICE may be added")
    return found
