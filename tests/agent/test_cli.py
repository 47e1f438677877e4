"""The conveyor-agent command: params in, outputs out, and its exit codes."""

from __future__ import annotations

import json
import pathlib

import pytest

from conveyor_agent import build_digest, cli, errors, outputs


def test_params_from_a_file_win_over_the_env(tmp_path: pathlib.Path) -> None:
    (tmp_path / "p.json").write_text('{"image": "from-file"}')
    (tmp_path / "m.json").write_text(json.dumps({"containerimage.digest": "sha256:" + "a" * 64}))
    out = tmp_path / "out.json"

    code = cli.main(
        ["build", "--params", str(tmp_path / "p.json"), "--output", str(out)],
        environ={"PARAMS": '{"image": "from-env"}', "BUILD_METADATA": str(tmp_path / "m.json")},
    )

    assert code == 0
    assert json.loads(out.read_text())["image"] == "from-file"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "no params: give --params FILE or the env var PARAMS"),
        ({"PARAMS": "{not json"}, "params are not JSON"),
        ({"PARAMS": "[1, 2]"}, "params must be a JSON object"),
    ],
)
def test_unusable_params_exit_2_and_say_why(
    environ: dict[str, str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: pathlib.Path,
) -> None:
    code = cli.main(["clone-env", "--output", str(tmp_path / "out")], environ=environ)

    assert code == errors.EXIT_ERROR
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_unexpected_error_is_exit_2_not_a_failed_check(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(job_params: object, *, environ: object) -> None:
        raise KeyError("versionCode")  # an API answer of a shape we did not expect

    monkeypatch.setattr(build_digest, "main", broken)
    code = cli.main(["build", "--output", str(tmp_path / "out")], environ={"PARAMS": "{}"})

    assert code == errors.EXIT_ERROR  # 1 would read as "the check failed"
    assert "KeyError: 'versionCode'" in capsys.readouterr().err


def test_every_runtime_resolves() -> None:
    import importlib

    for target in cli.RUNTIMES.values():
        module, _, function = target.partition(":")
        assert callable(getattr(importlib.import_module(module), function))


@pytest.mark.parametrize("size", [10, 200, 5000])
def test_outputs_always_fit_a_termination_message(size: int) -> None:
    bulky = {
        "result": "fail",
        "failed": [f"metric-{i}" for i in range(size)],
        "metrics": [{"name": f"metric-{i}", "deviation": 1.5} for i in range(size)],
    }
    text = outputs.encode(bulky)

    assert len(text.encode()) <= outputs.MAX_BYTES
    decoded = json.loads(text)
    assert decoded["result"] == "fail"
    assert decoded.get("truncated", False) is (len(json.dumps(bulky)) > outputs.MAX_BYTES)
