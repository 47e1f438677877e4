"""`conveyor operator --agent-image`: the flag, else env CONVEYOR_AGENT_IMAGE
(what the chart could set), else the default; checked before the operator
starts, and carried by the settings into the renderers' requests."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from conveyor.cli import main, operator_cmd
from conveyor.core import images
from conveyor.k8s import controller, rendering
from tests.k8s import fakes

PINNED = "registry.example/conveyor-agent@sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("flag", "env", "image"),
    [
        ([], None, images.DEFAULT_AGENT),
        ([], "registry.example/conveyor-agent:0.2.0", "registry.example/conveyor-agent:0.2.0"),
        ([f"--agent-image={PINNED}"], None, PINNED),
        ([f"--agent-image={PINNED}"], "registry.example/other:1", PINNED),  # the flag wins
    ],
)
def test_the_agent_image_comes_from_flag_env_or_default(
    monkeypatch: pytest.MonkeyPatch, flag: list[str], env: str | None, image: str
) -> None:
    if env is None:
        monkeypatch.delenv("CONVEYOR_AGENT_IMAGE", raising=False)
    else:
        monkeypatch.setenv("CONVEYOR_AGENT_IMAGE", env)
    args = main.build_parser().parse_args(["operator", *flag])

    assert operator_cmd.agent_image(args) == image


def test_a_bad_agent_image_stops_the_operator_before_it_starts() -> None:
    args = main.build_parser().parse_args(["operator", "--agent-image", "Agent:latest"])

    with pytest.raises(SystemExit, match="--agent-image: 'Agent:latest' is not an image"):
        operator_cmd.agent_image(args)


async def test_the_setting_reaches_the_controllers_renderer_pool() -> None:
    ctl = controller.Controller(
        client=fakes.FakeApi(),  # type: ignore[arg-type]
        settings=controller.Settings(agent_image=PINNED),
    )

    assert isinstance(ctl.renderer, rendering.Pool)
    assert {m.agent_image for m in ctl.renderer.members} == {PINNED}


def fresh_interpreter(*lines: str) -> str:
    """What a new Python process prints after running `lines`."""
    code = "\n".join(["import sys", *lines])
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return run.stdout.strip()


def test_the_operator_process_keeps_the_kubernetes_package_out() -> None:
    """kopf would import it (about 20 MiB); the operator loads credentials in a child."""
    out = fresh_interpreter(
        "from conveyor.cli import main, operator_cmd",
        "operator_cmd.keep_out_the_kubernetes_package()",
        "import kopf",
        "from conveyor.handlers import login, operator",
        "print(sorted(m for m, v in sys.modules.items() if m.startswith('kubernetes') and v))",
    )

    assert out == "[]"


def test_the_operator_process_imports_no_other_commands_module() -> None:
    out = fresh_interpreter(
        "from conveyor.cli import main",
        "main.build_parser(command='operator').parse_args(['operator'])",
        "print(sorted(m for m in sys.modules if m.startswith('conveyor.cli.')))",
    )

    assert out == "['conveyor.cli.main', 'conveyor.cli.operator_cmd']"


@pytest.mark.parametrize("command", [None, "--help", "nope"])
def test_help_and_a_mistyped_command_see_every_command(command: str | None) -> None:
    parser = main.build_parser(command=command)

    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert {"get", "operator", "trigger", "dashboard"} <= set(commands.choices)
