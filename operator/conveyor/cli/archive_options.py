"""The archive's command-line options, shared by `conveyor archive`,
`conveyor history` and `conveyor insights`, and the time spans they take.

The archive's libraries (the `history` extra) load only when an archive is
named, so a plain `pip install conveyor` keeps a working CLI.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
from typing import TYPE_CHECKING

from conveyor.cli import errors
from conveyor.core import model

if TYPE_CHECKING:
    from conveyor.archive import store

EXTRA = "the archive needs the history extra: pip install 'conveyor[history]'"
URL_ENV = "CONVEYOR_ARCHIVE"
PASSWORD_ENV = "CONVEYOR_ARCHIVE_PASSWORD"

DEFAULT_RETENTION = "90d"
DEFAULT_WINDOW = "30d"
_SPAN = re.compile(r"^([0-9]+)(w|d|h|m|s)$")
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def add(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument(
        "--archive",
        metavar="URL",
        default=os.environ.get(URL_ENV) or None,
        required=required and not os.environ.get(URL_ENV),
        help="the archive: sqlite:///path/history.db or postgresql://user@host:5432/db "
        f"(default: ${URL_ENV})",
    )
    parser.add_argument(
        "--archive-password-file",
        metavar="PATH",
        help=f"the PostgreSQL password, from this file (else ${PASSWORD_ENV}); never in the URL",
    )


def add_recorder(parser: argparse.ArgumentParser) -> None:
    """The options of a process that runs the recorder (`conveyor archive`, the dashboard)."""
    parser.add_argument(
        "--archive-retention",
        type=span,
        default=span(DEFAULT_RETENTION),
        metavar="SPAN",
        help=f"delete records older than this (default {DEFAULT_RETENTION})",
    )
    parser.add_argument(
        "--insights-window",
        type=span,
        default=span(DEFAULT_WINDOW),
        metavar="SPAN",
        help=f"the window of the conveyor_dora_* gauges (default {DEFAULT_WINDOW})",
    )


def span(text: str) -> datetime.timedelta:
    """`90d`, `2w`, `12h`, `30m`, `45s`."""
    match = _SPAN.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a span such as 90d, 2w, 12h or 30m")
    return datetime.timedelta(seconds=int(match[1]) * _UNITS[match[2]])


def moment(text: str) -> datetime.datetime | datetime.timedelta:
    """An RFC 3339 time, or a span back from now (`7d`)."""
    if _SPAN.match(text.strip()):
        return span(text)
    parsed = model.parse_time(text)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a time (RFC 3339) nor a span (7d)")
    return parsed


def at(
    value: datetime.datetime | datetime.timedelta | None, *, now: datetime.datetime
) -> datetime.datetime | None:
    if isinstance(value, datetime.timedelta):
        return now - value
    return value


def open_archive(args: argparse.Namespace, *, write: bool = False) -> store.Archive:
    """The archive the arguments name: migrated when writing, checked when reading."""
    try:
        from conveyor.archive import store, url
    except ImportError as exc:  # a plain install: say what to add
        raise errors.CliError(EXTRA) from exc
    try:
        where = url.parse(args.archive, password_file=args.archive_password_file)
    except (url.BadUrl, OSError) as exc:
        raise errors.CliError(str(exc)) from exc
    archive = store.Archive(url=where)
    try:
        archive.migrate() if write else archive.check()
    except store.NotMigrated as exc:
        archive.close()
        raise errors.CliError(f"{url.display(where)}: {exc}") from exc
    except Exception as exc:  # the driver's connection errors: one line, no trace
        archive.close()
        raise errors.CliError(f"cannot open the archive {url.display(where)}: {exc}") from exc
    return archive
