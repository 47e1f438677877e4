"""The archive's URL: `sqlite:///path/history.db` or `postgresql://user@host/db`.

The PostgreSQL password never comes on the command line (where `ps` shows
it): from a file (a mounted Secret) or the CONVEYOR_ARCHIVE_PASSWORD variable.
"""

from __future__ import annotations

import os
import pathlib

import sqlalchemy as sa

PASSWORD_ENV = "CONVEYOR_ARCHIVE_PASSWORD"
URL_ENV = "CONVEYOR_ARCHIVE"
SCHEMES = ("sqlite", "postgresql")


class BadUrl(ValueError):
    pass


def parse(
    text: str,
    *,
    password_file: str | None = None,
    environ: os._Environ[str] | dict[str, str] | None = None,
    from_command_line: bool = True,
) -> sa.URL:
    """The SQLAlchemy URL of an archive URL, with its password filled in."""
    environ = os.environ if environ is None else environ
    try:
        url = sa.make_url(text)
    except Exception as exc:  # SQLAlchemy's ArgumentError and friends
        raise BadUrl(
            f"{text!r} is not an archive URL (sqlite:///path or postgresql://...)"
        ) from exc
    backend = url.get_backend_name()
    if backend not in SCHEMES:
        raise BadUrl(f"archive URL scheme {backend!r}: use sqlite:/// or postgresql://")
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BadUrl("a sqlite archive needs a file: sqlite:///path/history.db")
        return url
    if url.password is not None and from_command_line:
        raise BadUrl(
            "put the archive password in --archive-password-file or "
            f"{PASSWORD_ENV}, not in the URL (the command line is visible to others)"
        )
    password = _password(password_file=password_file, environ=environ)
    url = url.set(drivername="postgresql+psycopg")  # psycopg 3, not SQLAlchemy's default psycopg2
    return url.set(password=password) if password is not None else url


def _password(
    *, password_file: str | None, environ: os._Environ[str] | dict[str, str]
) -> str | None:
    if password_file:
        return pathlib.Path(password_file).read_text().rstrip("\r\n")
    return environ.get(PASSWORD_ENV) or None


def display(url: sa.URL) -> str:
    """The URL for logs and errors: never its password."""
    return url.render_as_string(hide_password=True)
