"""A real PostgreSQL server for the archive's tests: Debian's `postgresql`
package (`.ci/run` installs it), initdb into a temporary directory, started
on a free port and stopped after. PostgreSQL refuses to run as root, so as
root it runs as `nobody`. Missing binaries skip the tests on a developer's
machine and fail them under CI=1, where a skip would hide the check."""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

PASSWORD = "archive-test-password"
USER = "conveyor"
DATABASE = "conveyor"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Server:
    port: int
    directory: pathlib.Path

    @property
    def url(self) -> str:
        """Without the password: it comes from a file or the environment."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def password_file(self) -> str:
        path = self.directory / "password"
        path.write_text(PASSWORD + "\n")
        return str(path)


def binaries() -> pathlib.Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if found:
        return pathlib.Path(found[-1]).parent
    on_path = shutil.which("postgres")
    return pathlib.Path(on_path).parent if on_path else None


def require() -> pathlib.Path:
    where = binaries()
    if where is not None:
        return where
    message = "PostgreSQL is not installed: apt-get install -y postgresql"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "nobody", "--", *args] if os.geteuid() == 0 else args


@contextlib.contextmanager
def running() -> Iterator[Server]:
    bin_dir = require()
    top = pathlib.Path(tempfile.mkdtemp(prefix="conveyor-pg-"))
    data = top / "data"
    secret = top / "pwfile"
    secret.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(top, user="nobody")
        shutil.chown(secret, user="nobody")
    subprocess.run(
        _as_user(
            [
                str(bin_dir / "initdb"),
                *("-D", str(data), "-U", USER, "--pwfile", str(secret)),
                *("--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8"),
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    log = (top / "postgres.log").open("wb")
    process = subprocess.Popen(
        _as_user(
            [
                str(bin_dir / "postgres"),
                *("-D", str(data), "-p", str(port), "-k", str(top)),
                *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"),
            ]
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(bin_dir, port=port, top=top, process=process)
        subprocess.run(
            _as_user(
                [str(bin_dir / "createdb"), "-h", str(top), "-p", str(port), "-U", USER, DATABASE]
            ),
            check=True,
            capture_output=True,
        )
        yield Server(port=port, directory=top)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(top, ignore_errors=True)


def _wait(
    bin_dir: pathlib.Path, *, port: int, top: pathlib.Path, process: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited: {(top / 'postgres.log').read_text()}")
        ready = subprocess.run(
            [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
        )
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError("postgres did not come up in 60s")
