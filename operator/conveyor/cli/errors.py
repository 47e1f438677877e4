"""Errors the CLI reports in one line, without a traceback."""

from __future__ import annotations

from conveyor.k8s import api


class CliError(Exception):
    """A failure to report to the user as `error: <message>` (exit code 1)."""


def describe(exc: api.ApiError, *, server: str) -> str:
    """One sentence for an API error the command did not handle itself."""
    if exc.status == 0:
        return f"cannot connect to the API server at {server}: {exc.message}"
    if exc.status == 401:
        return (
            f"not authenticated: {exc.message} (the API server refused the credentials of the "
            "kubeconfig context, also after loading them again)"
        )
    if exc.status == 403:
        return f"not allowed: {exc.message}"
    if exc.status == 404:
        return f"not found: {exc.message}"
    return f"the API server answered {exc.status} {exc.reason}: {exc.message}".rstrip(": ")


def not_found(*, kind: str, name: str, namespace: str) -> CliError:
    return CliError(f"{kind} {name} not found in namespace {namespace}")
