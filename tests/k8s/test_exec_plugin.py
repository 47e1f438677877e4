"""The exec credential contract as client-go keeps it: interactiveMode,
KUBERNETES_EXEC_INFO, checked output, and errors that say what to do."""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

from conveyor.k8s import exec_plugin

API = "client.authentication.k8s.io/v1"


@pytest.mark.parametrize(
    ("mode", "terminal", "interactive"),
    [
        ("Never", True, False),
        ("Never", False, False),
        ("IfAvailable", True, True),
        ("IfAvailable", False, False),
        ("Always", True, True),
    ],
)
def test_interactive_mode(mode: str, terminal: bool, interactive: bool) -> None:
    assert exec_plugin.is_interactive(mode=mode, stdin_is_terminal=terminal) is interactive


@pytest.mark.parametrize(
    ("mode", "error"),
    [("Always", "standard input is not a terminal"), ("Sometimes", "is not one of")],
)
def test_interactive_mode_errors(mode: str, error: str) -> None:
    with pytest.raises(exec_plugin.PluginError, match=error):
        exec_plugin.is_interactive(mode=mode, stdin_is_terminal=False)


def plugin(tmp_path: pathlib.Path, body: str) -> dict:
    script = tmp_path / "plugin.py"
    script.write_text(
        "import json, os, pathlib, sys\n"
        "pathlib.Path(sys.argv[1]).write_text(os.environ.get('KUBERNETES_EXEC_INFO', ''))\n"
        "stdin = 'closed' if sys.stdin is None else sys.stdin.read()\n" + body
    )
    return {
        "apiVersion": API,
        "command": sys.executable,
        "args": [str(script), str(tmp_path / "info.json")],
        "env": [{"name": "PLUGIN_TOKEN", "value": "t0k3n"}],
        "interactiveMode": "IfAvailable",
    }


GOOD = (
    f"print(json.dumps({{'apiVersion': '{API}', 'kind': 'ExecCredential', 'status': "
    "{'token': os.environ['PLUGIN_TOKEN'], 'expirationTimestamp': '2030-01-01T00:00:00Z'}}))\n"
)


def test_runs_the_plugin_with_exec_info_and_cluster(tmp_path: pathlib.Path) -> None:
    (tmp_path / "ca.crt").write_bytes(b"CA")
    config = {**plugin(tmp_path, GOOD), "provideClusterInfo": True}
    cluster = {
        "server": "https://example:6443",
        "certificate-authority": "ca.crt",
        "extensions": [{"name": "client.authentication.k8s.io/exec", "extension": {"k": "v"}}],
    }

    status = exec_plugin.run(config=config, cluster=cluster, base=tmp_path, stdin_is_terminal=False)

    assert status == {"token": "t0k3n", "expirationTimestamp": "2030-01-01T00:00:00Z"}
    info = json.loads((tmp_path / "info.json").read_text())
    assert info == {
        "apiVersion": API,
        "kind": "ExecCredential",
        "spec": {
            "interactive": False,
            "cluster": {
                "server": "https://example:6443",
                "certificate-authority-data": "Q0E=",
                "config": {"k": "v"},
            },
        },
    }


def test_no_cluster_info_unless_asked(tmp_path: pathlib.Path) -> None:
    exec_plugin.run(
        config=plugin(tmp_path, GOOD),
        cluster={"server": "s"},
        base=tmp_path,
        stdin_is_terminal=False,
    )

    assert "cluster" not in json.loads((tmp_path / "info.json").read_text())["spec"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("sys.exit(3)\n", "failed with exit code 3"),
        ("print('hello')\n", "printed no ExecCredential"),
        (
            "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1', "
            "'kind': 'ExecCredential', 'status': {'token': 'x'}}))\n",
            "answered client.authentication.k8s.io/v1beta1, not " + API,
        ),
        (
            f"print(json.dumps({{'apiVersion': '{API}', 'kind': 'ExecCredential', "
            "'status': {}}))\n",
            "neither a token nor a client certificate",
        ),
    ],
)
def test_bad_plugin_output(tmp_path: pathlib.Path, body: str, error: str) -> None:
    with pytest.raises(exec_plugin.PluginError, match=error):
        exec_plugin.run(
            config=plugin(tmp_path, body), cluster={}, base=tmp_path, stdin_is_terminal=False
        )


def test_a_missing_command_shows_the_install_hint(tmp_path: pathlib.Path) -> None:
    config = {"apiVersion": API, "command": "no-such-plugin", "installHint": "brew install it"}

    with pytest.raises(exec_plugin.PluginError, match=r"no-such-plugin: .*\nbrew install it"):
        exec_plugin.run(config=config, cluster={}, base=tmp_path, stdin_is_terminal=False)


def test_a_relative_command_is_relative_to_the_kubeconfig(tmp_path: pathlib.Path) -> None:
    config = {"command": "bin/plugin", "args": ["a"]}

    assert exec_plugin.command_line(config=config, base=tmp_path) == [
        str(tmp_path / "bin/plugin"),
        "a",
    ]
    assert exec_plugin.command_line(config={"command": "aws"}, base=tmp_path) == ["aws"]
