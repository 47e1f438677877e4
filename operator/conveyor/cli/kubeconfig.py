"""Credentials and the default namespace, as kubectl finds them: --kubeconfig,
else KUBECONFIG, else ~/.kube/config, else the in-cluster service account."""

from __future__ import annotations

import dataclasses
import os
import pathlib

import kopf

from conveyor.cli import errors

NO_KUBECONFIG = "no kubeconfig: set KUBECONFIG or use --kubeconfig"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Login:
    info: kopf.ConnectionInfo
    namespace: str  # the context's namespace, else "default"


def login(*, path: str | None) -> Login:
    """Log in with kopf's kubeconfig reader; raise CliError saying what is missing."""
    settings = kopf.OperatorSettings()
    files = _kubeconfig_files(path=path)
    if files:
        # kopf reads KUBECONFIG; missing files in the list are skipped, as kubectl does.
        os.environ["KUBECONFIG"] = os.pathsep.join(files)
        try:
            info = kopf.login_with_kubeconfig(settings=settings)
        except (OSError, ValueError, KeyError, TypeError, kopf.LoginError) as exc:
            raise errors.CliError(f"cannot use kubeconfig {files[0]}: {_why(exc)}") from None
    else:
        info = kopf.login_with_service_account(settings=settings)
    if info is None:
        raise errors.CliError(NO_KUBECONFIG)
    return Login(info=info, namespace=info.default_namespace or "default")


def _kubeconfig_files(*, path: str | None) -> list[str]:
    if path:
        if not pathlib.Path(path).expanduser().is_file():
            raise errors.CliError(f"no kubeconfig: {path} does not exist")
        return [str(pathlib.Path(path).expanduser())]
    listed = os.environ.get("KUBECONFIG", "")
    if listed:
        names = [p.strip() for p in listed.split(os.pathsep) if p.strip()]
        found = [str(pathlib.Path(p).expanduser()) for p in names]
        found = [p for p in found if pathlib.Path(p).is_file()]
        if not found:
            raise errors.CliError(
                f"no kubeconfig: KUBECONFIG names {listed}, which does not exist; "
                "set KUBECONFIG or use --kubeconfig"
            )
        return found
    default = pathlib.Path("~/.kube/config").expanduser()
    return [str(default)] if default.is_file() else []


def _why(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"it names {exc.args[0]!r}, which it does not define"
    return str(exc) or type(exc).__name__
