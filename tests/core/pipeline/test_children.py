"""How a child's failure reads in its run's message: the attempt and exit
code, or, when no attempt ran (InvalidSpec), the child's own message naming
the field."""

from __future__ import annotations

import dataclasses

import pytest

from tests.core.pipeline import builders as pb


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"state": "FAILED", "attempt": 3, "retry_limit": 2, "exit_code": 1},
            "attempt 3 of 3 (exit code 1)",
        ),
        ({"state": "FAILED", "attempt": 1, "reason": "Timeout"}, "attempt 1 of 1 (Timeout)"),
        ({"state": "REVOKED"}, "was revoked"),
    ],
)
def test_a_failure_names_the_attempt_and_why(fields: dict[str, object], expected: str) -> None:
    assert pb.child("r", "build", **fields).failure() == expected  # type: ignore[arg-type]


def test_an_invalid_child_quotes_its_own_message() -> None:
    child = pb.child("r", "promote", state="FAILED", attempt=0, reason="InvalidSpec")
    said = "invalid spec: spec.params.digest: 'sha256:1' is not an image digest"
    assert dataclasses.replace(child, message=said).failure() == f"{said} (InvalidSpec)"
    assert child.failure() == "attempt 0 of 1 (InvalidSpec)"  # no message: as before
