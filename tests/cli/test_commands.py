"""The pure parts of the commands: the rerun manifest and names, which Job's
logs to read, one-line errors, kubeconfig discovery, usage errors, and the
text of `why`."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from conveyor.cli import errors, logs_cmd, main, rerun_cmd, why_cmd
from conveyor.k8s import api, login
from conveyor.presentation import diagnosis
from tests import builders as b

# -- rerun -----------------------------------------------------------------------------


def finished() -> dict[str, Any]:
    body = b.pipelinejob("api-build").state("REVOKED").reason("Revoked").revoke().retry_limit(2)
    body = body.served()
    body["metadata"]["labels"] = {
        "team": "a",
        "app.kubernetes.io/instance": "my-argo-app",
        "argocd.argoproj.io/instance": "x",
        "kustomize.toolkit.fluxcd.io/name": "y",
    }
    body["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
    return body


def test_rerun_copies_the_spec_without_revoke() -> None:
    original = finished()
    new = rerun_cmd.manifest(original=original, name="api-build-rerun-1")
    expected_spec = {k: v for k, v in original["spec"].items() if k != "revoke"}
    assert new == {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineJob",
        "metadata": {
            "name": "api-build-rerun-1",
            "labels": {"team": "a", "conveyor.dev/rerun-of": "api-build"},
        },
        "spec": expected_spec,
    }


def test_rerun_never_changes_the_original() -> None:
    original = finished()
    snapshot = repr(original)
    new = rerun_cmd.manifest(original=original, name=None)
    new["spec"]["params"]["image"] = "changed"
    assert repr(original) == snapshot


def test_rerun_without_a_name_generates_one() -> None:
    new = rerun_cmd.manifest(original=finished(), name=None)
    assert new["metadata"]["generateName"] == "api-build-"
    assert "name" not in new["metadata"]


def test_rerun_of_a_long_name_is_an_annotation() -> None:
    long = "x" * 70
    body = b.pipelinejob(long).state("SUCCESS").served()
    new = rerun_cmd.manifest(original=body, name=None)
    assert new["metadata"]["annotations"] == {"conveyor.dev/rerun-of": long}
    assert len(new["metadata"]["generateName"]) <= rerun_cmd.MAX_NAME


@pytest.mark.parametrize(
    ("existing", "first"),
    [
        pytest.param(set(), "j-rerun-1", id="the first rerun"),
        pytest.param({"j-rerun-1", "j-rerun-3", "j-rerun-x", "other"}, "j-rerun-4", id="next"),
    ],
)
def test_rerun_names(existing: set[str], first: str) -> None:
    names = rerun_cmd.default_names(name="j", existing=existing)
    assert names[0] == first
    assert len(names) == rerun_cmd.ATTEMPTS_TO_NAME


def test_rerun_names_that_are_too_long_are_not_used() -> None:
    assert rerun_cmd.default_names(name="x" * 50, existing=set()) == []


# -- logs ------------------------------------------------------------------------------


def attempts(n: int) -> list[dict[str, Any]]:
    return [b.attempt_entry(i, result="FAILED", name="j") for i in range(1, n + 1)]


@pytest.mark.parametrize(
    ("body", "attempt", "expected"),
    [
        pytest.param(
            b.pipelinejob("j").state("RUNNING").attempt(2).attempts(attempts(1)).served(),
            None,
            (2, "j-2"),
            id="the current attempt",
        ),
        pytest.param(
            b.pipelinejob("j").state("FAILED").attempt(2).attempts(attempts(2)).served(),
            1,
            (1, "j-1"),
            id="an earlier attempt",
        ),
    ],
)
def test_the_job_of_an_attempt(
    body: dict[str, Any], attempt: int | None, expected: tuple[int, str]
) -> None:
    assert logs_cmd.job_of_attempt(body=body, attempt=attempt) == expected


@pytest.mark.parametrize(
    ("body", "attempt", "message"),
    [
        pytest.param(
            b.pipelinejob("j").state("IN-QUEUE").reason("ConcurrencyLimit").served(),
            None,
            "j has not started an attempt yet (IN-QUEUE: ConcurrencyLimit)",
            id="not started",
        ),
        pytest.param(
            b.pipelinejob("j").state("FAILED").attempt(2).served(),
            3,
            "j has no attempt 3; it has had 2",
            id="no such attempt",
        ),
        pytest.param(
            b.pipelinejob("j").state("FAILED").attempt(2).served(),
            0,
            "j has no attempt 0; it has had 2",
            id="attempt zero",
        ),
        pytest.param(
            b.pipelinejob("d").type("delay").state("RUNNING").attempt(1).served(),
            None,
            "d is a delay job: it runs no pod, so has no logs",
            id="delay job",
        ),
    ],
)
def test_attempts_without_logs(body: dict[str, Any], attempt: int | None, message: str) -> None:
    with pytest.raises(errors.CliError) as caught:
        logs_cmd.job_of_attempt(body=body, attempt=attempt)
    assert str(caught.value) == message


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (0, "Connection refused", "cannot connect to the API server at https://k:6443: Connection"),
        (401, "Unauthorized", "not authenticated: Unauthorized"),
        (403, 'pipelinejobs is forbidden: User "bob"', "not allowed: pipelinejobs is forbidden"),
        (404, "gone", "not found: gone"),
        (500, "boom", "the API server answered 500 InternalError: boom"),
    ],
)
def test_api_errors_in_one_sentence(status: int, message: str, expected: str) -> None:
    reason = "InternalError" if status == 500 else ""
    exc = api.ApiError(status=status, reason=reason, message=message)
    assert errors.describe(exc, server="https://k:6443").startswith(expected)


def test_not_found_names_the_namespace() -> None:
    assert str(errors.not_found(kind="pipelinejob", name="x", namespace="ns")) == (
        "pipelinejob x not found in namespace ns"
    )


# -- kubeconfig ------------------------------------------------------------------------

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: abc}}]
contexts:
- {name: with-ns, context: {cluster: c, user: u, namespace: team-a}}
- {name: plain, context: {cluster: c, user: u}}
current-context: %s
"""


@pytest.fixture
def home(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return tmp_path


def test_the_context_namespace_is_the_default(home: pathlib.Path) -> None:
    path = home / "kc"
    path.write_text(KUBECONFIG % "with-ns")
    creds = login.load(kubeconfig=str(path))
    assert (creds.namespace, creds.server, creds.authorization) == (
        "team-a",
        "https://127.0.0.1:6443",
        "Bearer abc",
    )


def test_without_a_context_namespace_it_is_default(
    home: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = home / "kc"
    path.write_text(KUBECONFIG % "plain")
    monkeypatch.setenv("KUBECONFIG", str(path))
    assert login.load().namespace == "default"


def test_home_kubeconfig_is_found(home: pathlib.Path) -> None:
    (home / ".kube").mkdir()
    (home / ".kube" / "config").write_text(KUBECONFIG % "with-ns")
    assert login.load().namespace == "team-a"


@pytest.mark.parametrize(
    ("env", "flag", "message"),
    [
        pytest.param(None, None, login.NO_KUBECONFIG, id="nothing"),
        pytest.param(
            "/nowhere/config", None, "no kubeconfig: KUBECONFIG names /nowhere/config", id="env"
        ),
        pytest.param(None, "/nowhere/kc", "no kubeconfig: /nowhere/kc does not exist", id="flag"),
    ],
)
def test_missing_kubeconfig(
    home: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    flag: str | None,
    message: str,
) -> None:
    if env:
        monkeypatch.setenv("KUBECONFIG", env)
    with pytest.raises(login.LoginError) as caught:
        login.load(kubeconfig=flag)
    assert str(caught.value).startswith(message)


def test_a_broken_kubeconfig_is_named(home: pathlib.Path) -> None:
    path = home / "kc"
    path.write_text(KUBECONFIG % "missing-context")
    with pytest.raises(login.LoginError, match=r"context 'missing-context' not found in .*kc"):
        login.load(kubeconfig=str(path))


def test_a_missing_kubeconfig_exits_1_with_one_line(
    home: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main.main(["get"]) == 1
    assert capsys.readouterr().err == f"error: {login.NO_KUBECONFIG}\n"


# -- usage -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nope"],
        ["get", "--bogus"],
        ["get", "-o", "xml"],
        ["why"],
        ["history", "--limit", "0"],
        ["logs", "j", "--attempt", "x"],
        ["get", "-o", "jsonpath={.a"],
        ["get", "-o", "custom-columns=NAME"],
        ["get", "--sort-by", "{range .a}"],
        ["why", "j", "-o", "name"],
        ["completion", "tcsh"],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main.main(argv)
    assert caught.value.code == 2


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"conveyor {main.version()}\n"


def test_kubectl_options_parse() -> None:
    args = main.build_parser().parse_args(
        [
            *("get", "a", "b", "-l", "team=a", "--field-selector", "metadata.name=a"),
            *("-o", "wide", "--sort-by", ".metadata.name", "--no-headers"),
            *("--context", "c", "--kubeconfig", "k"),
        ]
    )
    assert (args.names, args.selector, args.field_selector, args.output.kind) == (
        ["a", "b"],
        "team=a",
        "metadata.name=a",
        "wide",
    )
    assert (args.no_headers, args.context, args.kubeconfig) == (True, "c", "k")
    assert args.sort_by.render({"metadata": {"name": "x"}}) == "x"


def test_every_command_is_registered() -> None:
    parser = main.build_parser()
    for command in ("get", "why", "workers", "history", "logs", "revoke", "rerun", "operator"):
        assert (
            parser.parse_args(
                [command, "x"] if command in {"why", "logs", "revoke", "rerun"} else [command]
            ).command
            == command
        )


# -- why, as text ----------------------------------------------------------------------


def test_why_renders_headline_facts_events_and_actions() -> None:
    result = diagnosis.Diagnosis(
        namespace="ns",
        name="j",
        state="IN-QUEUE",
        reason="ConcurrencyLimit",
        summary="waiting for a free slot on Worker build",
        facts=(
            diagnosis.Fact(label="Queue", text="position 1 of 1"),
            diagnosis.Fact(label="Operator", text="stale", level=diagnosis.Level.WARNING),
        ),
        events=(
            diagnosis.EventLine(age="5s", type="Normal", reason="Queued", message="q", count=3),
        ),
        actions=("wait", "or this\nsecond line"),
    )
    assert why_cmd.render(result, colour=False) == [
        "pipelinejob ns/j: IN-QUEUE (ConcurrencyLimit)",
        "waiting for a free slot on Worker build",
        "",
        "  Queue:     position 1 of 1",
        "  Operator:  stale",
        "",
        "Events (oldest first):",
        "  AGE   TYPE     REASON   MESSAGE",
        "  5s    Normal   Queued   q (x3)",
        "",
        "What you can do:",
        "  - wait",
        "  - or this",
        "      second line",
    ]
    coloured = why_cmd.render(result, colour=True)
    assert "\x1b[33mIN-QUEUE\x1b[0m" in coloured[0]
    assert coloured[4] == "  Operator:  \x1b[33mstale\x1b[0m"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--context", "c", "get", "a"], ["get", "--context", "c", "a"]),
        (["-n", "x", "-A", "workers"], ["workers", "-n", "x", "-A"]),
        (["--kubeconfig=k", "why", "j"], ["why", "--kubeconfig=k", "j"]),
        (["get", "--context", "c"], ["get", "--context", "c"]),
        (["--version"], ["--version"]),
        (["--context"], ["--context"]),
        (["--bogus", "get"], ["--bogus", "get"]),
    ],
)
def test_global_flags_may_come_before_the_command(argv: list[str], expected: list[str]) -> None:
    assert main.hoist(argv) == expected


def test_a_context_before_the_command_reaches_it() -> None:
    args = main.build_parser().parse_args(main.hoist(["--context", "c", "-n", "x", "get"]))
    assert (args.command, args.context, args.namespace) == ("get", "c", "x")
