"""The Argo CD health checks in docs/argocd/ give the health a person expects
for every state, run the way Argo CD runs them (gopher-lua, base and table
libraries only: hack/argocd-lua), on objects whose status comes from the
operator's own status code."""

from __future__ import annotations

import json
import pathlib
import subprocess
from collections.abc import Sequence
from typing import Any

import pytest

from conveyor.core import model
from tests import builders as b
from tests.deploy import test_kstatus as objects
from tests.deploy import tools

PIPELINEJOB_LUA = tools.ROOT / "docs" / "argocd" / "pipelinejob-health.lua"
WORKER_LUA = tools.ROOT / "docs" / "argocd" / "worker-health.lua"
State = model.State
Reason = model.Reason


def health(script: Any, bodies: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    result = subprocess.run(
        [tools.require(tools.ARGOCD_LUA), str(script)],
        input=json.dumps(list(bodies)),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answers: list[dict[str, str]] = json.loads(result.stdout)
    for answer in answers:
        assert "error" not in answer, answer["error"]
    return answers


@pytest.mark.parametrize(
    ("state", "reason", "expected"),
    [
        (State.IN_QUEUE, Reason.QUEUED, "Progressing"),
        (State.IN_QUEUE, Reason.CONCURRENCY_LIMIT, "Progressing"),
        (State.IN_QUEUE, Reason.RETRY_BACKOFF, "Progressing"),
        (State.IN_QUEUE, Reason.WORKER_OFFLINE, "Progressing"),
        (State.RUNNING, Reason.RUNNING, "Progressing"),
        (State.SUCCESS, Reason.SUCCEEDED, "Healthy"),
        (State.FAILED, Reason.POD_FAILED, "Degraded"),
        (State.FAILED, Reason.INVALID_SPEC, "Degraded"),
        (State.FAILED, Reason.RETRIES_EXHAUSTED, "Degraded"),
        (State.REVOKED, Reason.REVOKED, "Suspended"),
    ],
)
def test_pipelinejob_health(state: State, reason: str, expected: str) -> None:
    [answer] = health(PIPELINEJOB_LUA, [objects.pipelinejob(state, reason)])

    assert answer == {"status": expected, "message": f"{state} ({reason}): {state} {reason}"}


def test_a_pipelinejob_not_yet_seen_by_the_operator_is_progressing() -> None:
    bodies = [objects.pipelinejob(None), {**objects.pipelinejob(None), "status": {}}]

    assert [a["status"] for a in health(PIPELINEJOB_LUA, bodies)] == ["Progressing"] * 2


def test_a_finished_pipelinejob_keeps_its_health_after_a_spec_edit() -> None:
    """A finished job does not run again: editing it (say, ttlAfterFinished
    from Git) must not turn a green app yellow."""
    [answer] = health(PIPELINEJOB_LUA, [objects.pipelinejob(State.SUCCESS, "Ok", generation=5)])

    assert answer["status"] == "Healthy"


def test_an_unknown_state_is_unknown() -> None:
    body = objects.pipelinejob(State.RUNNING, "Running")
    body["status"]["state"] = "EXPLODED"

    assert health(PIPELINEJOB_LUA, [body])[0]["status"] == "Unknown"


def test_an_empty_reason_and_message_are_left_out() -> None:
    body = objects.pipelinejob(State.SUCCESS)
    body["status"].pop("message", None)

    assert health(PIPELINEJOB_LUA, [body])[0]["message"] == "SUCCESS"


@pytest.mark.parametrize(
    ("worker", "expected", "message"),
    [
        (b.worker(), "Healthy", "ONLINE (Ready): 0 of 2 slots busy, 0 queued"),
        (
            b.worker().paused(),
            "Suspended",
            "PAUSED (Paused): paused: 0 running job(s) finish, 0 wait",
        ),
        (b.worker().whole_spec({"type": "nope", "concurrency": 1}), "Degraded", None),
    ],
)
def test_worker_health(worker: b.Worker, expected: str, message: str | None) -> None:
    [answer] = health(WORKER_LUA, [objects.worker(worker)])

    assert answer["status"] == expected
    if message is not None:
        assert answer["message"] == message


@pytest.mark.parametrize(("state", "expected"), [("DEGRADED", "Degraded"), ("OFFLINE", "Degraded")])
def test_a_worker_that_cannot_run_pods_is_degraded(state: str, expected: str) -> None:
    body = objects.worker()
    body["status"].update(state=state, reason="ImagePullFailing", message="pods cannot start")

    [answer] = health(WORKER_LUA, [body])

    assert answer == {
        "status": expected,
        "message": f"{state} (ImagePullFailing): pods cannot start",
    }


def test_a_worker_change_not_yet_applied_is_progressing() -> None:
    body = objects.worker()
    body["metadata"]["generation"] = 2

    assert health(WORKER_LUA, [body])[0]["status"] == "Progressing"


def test_a_worker_not_yet_seen_by_the_operator_is_progressing() -> None:
    body = objects.worker()
    del body["status"]

    assert health(WORKER_LUA, [body])[0]["status"] == "Progressing"


@pytest.mark.parametrize("script", [PIPELINEJOB_LUA, WORKER_LUA])
def test_the_scripts_use_no_library_argo_cd_withholds(script: Any) -> None:
    """Argo CD opens only the base and table libraries for a customization
    (unless useOpenLibs): string.*, os.*, io.* would fail there at run time."""
    code = "\n".join(
        line.split("--", 1)[0] for line in script.read_text().splitlines()
    )  # without comments
    for library in ("string.", "os.", "io.", "require", ":find(", ":match(", ":sub(", ":gsub("):
        assert library not in code, f"{script.name} uses {library}"


def test_the_runner_withholds_the_string_library(tmp_path: pathlib.Path) -> None:
    """The runner really runs like Argo CD: a script calling string.* errs."""
    script = tmp_path / "upper.lua"
    script.write_text('return {status = string.upper("healthy")}\n')
    result = subprocess.run(
        [tools.require(tools.ARGOCD_LUA), str(script)],
        input="[{}]",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [answer] = json.loads(result.stdout)

    assert "attempt to index a non-table object(nil) with key 'upper'" in answer["error"]


def test_argocd_cm_patch_carries_both_scripts() -> None:
    import yaml

    patch = yaml.safe_load((tools.ROOT / "docs" / "argocd" / "argocd-cm.yaml").read_text())
    data = patch["data"]

    assert data["resource.customizations.health.conveyor.dev_PipelineJob"] == (
        PIPELINEJOB_LUA.read_text()
    )
    assert data["resource.customizations.health.conveyor.dev_Worker"] == WORKER_LUA.read_text()
