"""Concurrency policy among the runs of one branch, table-driven."""

from __future__ import annotations

import pytest

from conveyor.triggers import policy, spec

P = spec.Policy


def run(name: str, at: str, *, group: str = "refs/heads/main", active: bool = True) -> policy.Run:
    return policy.Run(name=name, group=group, received_at=at, active=active)


OWN = run("api-new", "2026-12-01T12:00:02.000000Z")
OLDER = run("api-old", "2026-12-01T12:00:01.000000Z")
NEWER = run("api-later", "2026-12-01T12:00:03.000000Z")
DONE = run("api-done", "2026-12-01T12:00:00.000000Z", active=False)
OTHER_BRANCH = run("api-dev", "2026-12-01T12:00:00.000000Z", group="refs/heads/dev")
SAME_TIME = run("api-a", "2026-12-01T12:00:02.000000Z")


@pytest.mark.parametrize(
    ("given", "others", "create", "blocked_by", "revoked"),
    [
        (P.ALLOW, [OLDER, NEWER], True, "", ()),
        (P.FORBID, [], True, "", ()),
        (P.FORBID, [DONE, OTHER_BRANCH], True, "", ()),
        (P.FORBID, [NEWER, OLDER], False, "api-old", ()),
        (P.FORBID, [OWN], True, "", ()),  # a redelivery finds itself, not a holder
        (P.REPLACE, [OLDER, DONE, OTHER_BRANCH], True, "", ("api-old",)),
        (P.REPLACE, [NEWER], True, "", ()),  # never revokes a later push
        (P.REPLACE, [SAME_TIME], True, "", ("api-a",)),  # ties broken by name
    ],
)
def test_policy(
    given: spec.Policy,
    others: list[policy.Run],
    create: bool,
    blocked_by: str,
    revoked: tuple[str, ...],
) -> None:
    decision = policy.before_create(policy=given, own=OWN, others=others)
    assert (decision.create, decision.blocked_by) == (create, blocked_by)
    assert policy.to_revoke(policy=given, own=OWN, others=others) == revoked


def test_two_pushes_at_once_never_revoke_each_other() -> None:
    a, b = run("api-a", "2026-12-01T12:00:02.000000Z"), run("api-b", "2026-12-01T12:00:02.000000Z")
    revoked_by_a = policy.to_revoke(policy=P.REPLACE, own=a, others=[b])
    revoked_by_b = policy.to_revoke(policy=P.REPLACE, own=b, others=[a])
    assert (revoked_by_a, revoked_by_b) == ((), ("api-a",))


def test_run_of_reads_what_the_receiver_wrote() -> None:
    body = {
        "metadata": {
            "name": "api-1",
            "annotations": {
                "conveyor.dev/trigger-group": "pull/42",
                "conveyor.dev/received-at": "2026-12-01T12:00:00.000001Z",
            },
        },
        "spec": {"revoke": False},
        "status": {"state": "RUNNING"},
    }
    assert policy.run_of(body) == run("api-1", "2026-12-01T12:00:00.000001Z", group="pull/42")
    assert not policy.run_of(body | {"status": {"state": "SUCCESS"}}).active
    assert not policy.run_of(body | {"spec": {"revoke": True}}).active


@pytest.mark.parametrize(
    ("same_body", "replayed"), [([], ""), (["api-1"], ""), (["api-1", "api-0"], "api-0")]
)
def test_replay_is_the_same_body_under_another_name(same_body: list[str], replayed: str) -> None:
    assert policy.replay_of(own="api-1", same_body=same_body) == replayed
