"""The checkout of a private repository: credentials from the env reach a
forge that demands them (git's smart HTTP behind Basic auth), through the
agent's credential helper, and nowhere else."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from collections.abc import Iterator

import pytest

from conveyor_agent import errors, git, git_credential
from tests.agent import gitrepos

TOKEN = "ghp_s3cret-token"


@pytest.fixture
def forge(tmp_path: pathlib.Path) -> Iterator[gitrepos.Forge]:
    gitrepos.android_project(tmp_path / "repos" / "app.git")
    served = gitrepos.Forge(root=tmp_path / "repos", username="x-access-token", password=TOKEN)
    yield served
    served.close()


def env(tmp_path: pathlib.Path, **secrets: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(tmp_path), **secrets}


def test_a_token_is_sent_as_x_access_token(forge: gitrepos.Forge, tmp_path: pathlib.Path) -> None:
    commit = git.checkout(
        repository=forge.url("app.git"),
        revision="main",
        into=str(tmp_path / "src"),
        environ=env(tmp_path, GIT_TOKEN=TOKEN),
    )

    assert (tmp_path / "src" / "VERSION").read_text() == "2\n"
    assert commit == gitrepos.git("rev-parse", "main", cwd=tmp_path / "repos" / "app.git")
    assert "/app.git/git-upload-pack" in forge.authorized


def test_username_and_password(tmp_path: pathlib.Path) -> None:
    gitrepos.android_project(tmp_path / "repos" / "app.git")
    forge = gitrepos.Forge(root=tmp_path / "repos", username="ci-bot", password="hunter2")
    try:
        git.checkout(
            repository=forge.url("app.git"),
            revision="v1",
            into=str(tmp_path / "src"),
            environ=env(tmp_path, GIT_USERNAME="ci-bot", GIT_PASSWORD="hunter2"),
        )
    finally:
        forge.close()
    assert (tmp_path / "src" / "VERSION").read_text() == "1\n"


@pytest.mark.parametrize("secrets", [{}, {"GIT_TOKEN": "wrong"}])
def test_refused_credentials_fail_at_once_without_the_secret_in_the_message(
    forge: gitrepos.Forge, tmp_path: pathlib.Path, secrets: dict[str, str]
) -> None:
    # No terminal to prompt on: git must give up, not wait for a password.
    with pytest.raises(errors.JobError) as failed:
        git.checkout(
            repository=forge.url("app.git"),
            revision="main",
            into=str(tmp_path / "src"),
            environ=env(tmp_path, **secrets),
        )
    assert "git -C" in str(failed.value)
    assert "wrong" not in str(failed.value)
    assert forge.refused >= 1
    assert not forge.authorized


def test_the_secret_is_in_no_file_of_the_checkout(
    forge: gitrepos.Forge, tmp_path: pathlib.Path
) -> None:
    git.checkout(
        repository=forge.url("app.git"),
        revision="main",
        into=str(tmp_path / "src"),
        environ=env(tmp_path, GIT_TOKEN=TOKEN),
    )
    for path in tmp_path.rglob("*"):
        if path.is_file() and "repos" not in path.parts:
            assert TOKEN.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(
    ("repository", "host"),
    [
        ("https://github.com/acme/app.git", "github.com"),
        ("https://git.example:8443/acme/app.git", "git.example:8443"),
        ("https://bot@git.example/acme/app.git", "git.example"),
        ("git@github.com:acme/app.git", ""),
    ],
)
def test_the_host_the_credentials_are_for(repository: str, host: str) -> None:
    assert git.host(repository) == host


HELPER_ENV = {
    git.HELPER_USERNAME: "x-access-token",
    git.HELPER_PASSWORD: TOKEN,
    git.HELPER_HOST: "github.com",
}


@pytest.mark.parametrize(
    ("action", "request_text", "environ", "answer"),
    [
        (
            "get",
            "protocol=https\nhost=github.com\n",
            HELPER_ENV,
            f"username=x-access-token\npassword={TOKEN}\n",
        ),
        ("get", "protocol=https\nhost=evil.example\n", HELPER_ENV, ""),  # a redirect elsewhere
        ("get", "protocol=https\n", HELPER_ENV, ""),
        ("get", "protocol=https\nhost=github.com\n", {}, ""),  # no gitSecret
        ("store", "protocol=https\nhost=github.com\n", HELPER_ENV, ""),
        ("erase", "protocol=https\nhost=github.com\n", HELPER_ENV, ""),
    ],
)
def test_the_helper_answers_only_get_for_its_host(
    action: str, request_text: str, environ: dict[str, str], answer: str
) -> None:
    assert git_credential.answer(action=action, request=request_text, environ=environ) == answer


def test_the_helper_runs_as_git_runs_it(tmp_path: pathlib.Path) -> None:
    helper = f"!{sys.executable} -m conveyor_agent.git_credential"
    done = subprocess.run(
        [
            "git",
            "-c",
            "credential.helper=",
            "-c",
            f"credential.helper={helper}",
            "credential",
            "fill",
        ],
        input="protocol=https\nhost=github.com\npath=acme/app.git\n\n",
        env={**env(tmp_path), **HELPER_ENV, "GIT_TERMINAL_PROMPT": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert f"username=x-access-token\npassword={TOKEN}\n" in done.stdout
