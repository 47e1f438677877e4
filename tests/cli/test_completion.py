"""Shell completion: the generated scripts, exercised in bash (`compgen` on
the function the script registers) and through argcomplete's own protocol."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from conveyor.cli import completion

BIN = pathlib.Path(sys.executable).parent


def script(shell: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "conveyor.cli.main", "completion", shell],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nospace -o default -o bashdefault -F _python_argcomplete conveyor"),
        ("zsh", "#compdef conveyor kubectl-conveyor"),
        ("fish", "complete --command conveyor"),
    ],
)
def test_scripts_for_each_shell(shell: str, marker: str) -> None:
    assert marker in script(shell)


def bash_complete(line: str, tmp_path: pathlib.Path) -> list[str]:
    """What bash offers at the end of `line`, through the generated script."""
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    (tmp_path / "completion.bash").write_text(script("bash"))
    words = line.split(" ")
    program = f"""
source {tmp_path / "completion.bash"}
COMP_LINE={line!r}; COMP_POINT={len(line)}; COMP_WORDS=({" ".join(repr(w) for w in words)})
COMP_CWORD={len(words) - 1}
_python_argcomplete conveyor "{words[-1]}" "{words[-2]}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    # `conveyor` must be the installed entry point, as a user's shell finds it.
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "KUBECONFIG": "/nonexistent",
    }
    done = subprocess.run(
        ["bash", "-c", program], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    return sorted(done.stdout.split())


def test_bash_completes_commands(tmp_path: pathlib.Path) -> None:
    assert bash_complete("conveyor w", tmp_path) == ["webhooks", "why", "workers"]


def test_bash_completes_flags_and_output_formats(tmp_path: pathlib.Path) -> None:
    assert bash_complete("conveyor get --so", tmp_path) == ["--sort-by"]
    assert bash_complete("conveyor get -o js", tmp_path) == ["json", "jsonpath="]


def test_object_names_need_a_cluster_and_fail_quietly_without_one(tmp_path: pathlib.Path) -> None:
    assert bash_complete("conveyor why ", tmp_path) == [
        "--context", "--help", "--kubeconfig", "--namespace", "--output", "-h", "-n", "-o",
    ]  # fmt: skip


def test_choices_complete_by_prefix() -> None:
    assert completion.choices(["json", "jsonpath=", "yaml"])(prefix="js") == ["json", "jsonpath="]
