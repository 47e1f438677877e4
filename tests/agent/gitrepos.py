"""Git repositories for the agent's checkout tests: a real one made with
`git init` in a temporary directory (an Android project whose `gradlew` is a
stand-in that writes an APK or AAB), and a private forge serving it over
git's smart HTTP protocol (git's own `git http-backend`, as forges run it)
behind HTTP Basic authentication, recording who fetched."""

from __future__ import annotations

import base64
import http.server
import os
import pathlib
import subprocess
import threading
from collections.abc import Mapping

# What `./gradlew --no-daemon <task>` leaves behind, like Gradle: the output
# type from the task's verb, under the app module's build/outputs.
GRADLEW = """\
#!/bin/sh
set -eu
[ "$1" = --no-daemon ] || { echo "gradlew: expected --no-daemon, got $1" >&2; exit 64; }
case "$2" in
  assemble*) out=app/build/outputs/apk/release; ext=apk ;;
  bundle*) out=app/build/outputs/bundle/release; ext=aab ;;
  *) echo "Task '$2' not found in root project" >&2; exit 1 ;;
esac
mkdir -p "$out"
printf 'built by %s from %s\\n' "$2" "$(cat VERSION)" > "$out/app-release.$ext"
"""


def git(*args: str, cwd: pathlib.Path | None = None) -> str:
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(cwd or pathlib.Path.cwd()),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def android_project(path: pathlib.Path) -> pathlib.Path:
    """A repository with two commits on main (VERSION 1, then 2), tag v1 on the
    first and branch feature (VERSION 3); gradlew committed without its
    executable bit, as from a Windows checkout."""
    path.mkdir(parents=True)
    git("init", "--quiet", "--initial-branch=main", cwd=path)
    (path / "gradlew").write_text(GRADLEW)
    (path / "gradlew").chmod(0o644)
    (path / "VERSION").write_text("1\n")
    git("add", "gradlew", "VERSION", cwd=path)
    git("commit", "--quiet", "-m", "app 1", cwd=path)
    git("tag", "v1", cwd=path)
    git("switch", "--quiet", "-c", "feature", cwd=path)
    (path / "VERSION").write_text("3\n")
    git("commit", "--quiet", "-am", "app 3", cwd=path)
    git("switch", "--quiet", "main", cwd=path)
    (path / "VERSION").write_text("2\n")
    git("commit", "--quiet", "-am", "app 2", cwd=path)
    return path


class Forge:
    """https-less GitHub: repositories under `root` at http://127.0.0.1:<port>/<name>,
    readable by the one account (username, password)."""

    def __init__(self, *, root: pathlib.Path, username: str, password: str) -> None:
        self.root = root
        self.expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.authorized: list[str] = []  # the paths fetched with the right credentials
        self.refused = 0
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, name: str) -> str:
        return f"http://{self.host}/{name}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        forge = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                if self.headers.get("Authorization") != forge.expected:
                    forge.refused += 1
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="forge"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                forge.authorized.append(path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, content = forge.backend(
                    method=self.command, path=path, query=query, body=body, headers=self.headers
                )
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        return Handler

    def backend(
        self, *, method: str, path: str, query: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One request through `git http-backend`, a CGI program."""
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": headers.get("Content-Type") or "",
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "dev",
        }
        for name, variable in (
            ("Git-Protocol", "GIT_PROTOCOL"),
            ("Content-Encoding", "HTTP_CONTENT_ENCODING"),
        ):
            if headers.get(name):
                env[variable] = headers[name]
        done = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60
        )
        head, _, content = done.stdout.partition(b"\r\n\r\n")  # CGI headers, then the body
        status, out = 200, []
        for line in head.decode().splitlines():
            name, _, value = line.partition(": ")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                out.append((name, value))
        return status, out, content
