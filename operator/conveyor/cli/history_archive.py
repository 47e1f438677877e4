"""`conveyor history --archive`: pages of the archive's records (the jobs
the API may have deleted long ago), filtered in the database."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from conveyor.cli import context, errors
from conveyor.k8s import login

if TYPE_CHECKING:
    from conveyor.archive import record, store


def namespace(args: argparse.Namespace) -> str | None:
    """The namespace to read: -n, all with -A, else the kubeconfig context's."""
    if getattr(args, "all_namespaces", False):
        return None
    if args.namespace:
        return str(args.namespace)
    try:
        return context.source(args).current().namespace
    except login.LoginError:  # no kubeconfig needed to read an archive
        return "default"


def page(
    archive: store.Archive,
    *,
    args: argparse.Namespace,
    where: Any,
) -> store.Page:
    """One page of finished jobs matching `where` (history_cmd.Where) and -l."""
    from conveyor.archive import selector, store

    try:
        requirements = selector.parse(getattr(args, "selector", None))
    except ValueError as exc:
        raise errors.CliError(f"-l: {exc}") from exc
    if getattr(args, "field_selector", None):
        raise errors.CliError("--field-selector reads the live API: leave out --archive")
    query = store.Filter(
        namespace=namespace(args),
        types=[where.type] if where.type else [],
        worker=where.worker,
        state=where.state,
        selector=requirements,
        since=where.since,
        until=where.until,
    )
    try:
        return archive.page(where=query, limit=where.limit, token=args.page_token)
    except ValueError as exc:
        raise errors.CliError(f"--page-token: {exc}") from exc


def as_object(r: record.Record) -> dict[str, Any]:
    from conveyor.archive import record

    return record.as_object(r)
