"""Filters, table-tested over the sample payloads."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.core import model
from conveyor.core.pipeline import expressions
from conveyor.triggers import deliveries, filters, objects, spec
from tests.triggers import samples

TRIGGER = model.Meta.from_body({"metadata": {"name": "api", "namespace": "team-a"}})


def check(sample: str, **given: Any) -> filters.Verdict:
    delivery = samples.delivery(sample)
    headers = deliveries.Headers(samples.SAMPLES[sample][1])
    context = objects.context(
        trigger=TRIGGER, delivery=delivery, body=samples.body(sample), headers=headers
    )
    return filters.check(filters=spec.Filters(**given), delivery=delivery, context=context)


@pytest.mark.parametrize(
    ("sample", "given", "reason"),
    [
        # the defaults: GitHub push, GitLab push and tag_push
        ("github-push", {}, ""),
        ("github-tag", {}, ""),
        ("github-pull-request", {}, "EventFiltered"),
        ("gitlab-push", {}, ""),
        ("gitlab-tag-push", {}, ""),
        ("gitlab-merge-request", {}, "EventFiltered"),
        ("github-branch-deleted", {}, "RefDeleted"),
        # events
        ("github-pull-request", {"events": ["pull_request"]}, ""),
        ("gitlab-merge-request", {"events": ["merge_request"]}, ""),
        ("github-push", {"events": ["pull_request"]}, "EventFiltered"),
        # branches and tags (a PR matches by its base branch)
        ("github-push", {"branches": ["main"]}, ""),
        ("github-push", {"branches": ["release/*"]}, "RefFiltered"),
        ("github-push", {"branches": ["**", "!main"]}, "RefFiltered"),
        ("github-push", {"branches": ["!feature/**"]}, ""),
        ("github-push", {"tags": ["v*"]}, "RefFiltered"),
        ("github-tag", {"tags": ["v*"]}, ""),
        ("github-tag", {"tags": ["v2.*"]}, "RefFiltered"),
        ("github-tag", {"branches": ["main"]}, "RefFiltered"),
        ("github-tag", {"branches": ["main"], "tags": ["v1.*"]}, ""),
        ("github-pull-request", {"events": ["pull_request"], "branches": ["main"]}, ""),
        ("github-pull-request", {"events": ["pull_request"], "branches": ["dev"]}, "RefFiltered"),
        ("gitlab-merge-request", {"events": ["merge_request"], "branches": ["ma?n"]}, ""),
        ("gitlab-tag-push", {"tags": ["v1.0.*"]}, ""),
        # paths: only where the payload lists them all
        ("github-push", {"paths": ["src/**"]}, ""),
        ("github-push", {"paths": ["src/*"]}, "PathsFiltered"),
        ("github-push", {"paths": ["docs/**"]}, "PathsFiltered"),
        ("github-push", {"paths": ["**", "!**.md"]}, ""),
        ("gitlab-push", {"paths": ["app/**"]}, ""),
        ("gitlab-push", {"paths": ["docs/**"]}, "PathsFiltered"),
        ("github-tag", {"paths": ["docs/**"]}, ""),
        ("github-pull-request", {"events": ["pull_request"], "paths": ["docs/**"]}, ""),
        # when, over the payload
        (
            "github-pull-request",
            {"events": ["pull_request"], "when": "not body.pull_request.draft"},
            "",
        ),
        (
            "github-pull-request",
            {
                "events": ["pull_request"],
                "when": "'ci' in body.pull_request.labels | map(attribute='name')",
            },
            "",
        ),
        (
            "github-pull-request",
            {"events": ["pull_request"], "when": "body.action in ['opened', 'reopened']"},
            "WhenFalse",
        ),
        ("github-push", {"when": "headers['x-github-event'] == 'push' and branch == 'main'"}, ""),
        ("gitlab-push", {"when": "body.project.path_with_namespace == 'mike/diaspora'"}, ""),
        ("gitlab-push", {"when": "body.user_username == 'root'"}, "WhenFalse"),
    ],
)
def test_check(sample: str, given: dict[str, Any], reason: str) -> None:
    verdict = check(sample, **given)
    assert (verdict.accepted, verdict.reason) == (not reason, reason), verdict.message


def test_a_when_that_fails_names_the_field() -> None:
    with pytest.raises(expressions.ExpressionError, match=r"spec\.filters\.when"):
        check("github-push", when="body.nothing.here")


def test_when_runs_in_the_sandbox() -> None:
    with pytest.raises(expressions.ExpressionError):
        check("github-push", when="body.__class__.__mro__")


@pytest.mark.parametrize(
    ("pattern", "value", "matched"),
    [
        ("main", "main", True),
        ("feature/*", "feature/x", True),
        ("feature/*", "feature/x/y", False),
        ("feature/**", "feature/x/y", True),
        ("v?.*", "v1.2", True),
        ("v?.*", "v10.2", False),
        ("release-[1]", "release-[1]", True),  # brackets are literal
        ("*.md", "docs/a.md", False),
        ("**.md", "docs/a.md", True),
    ],
)
def test_glob(pattern: str, value: str, matched: bool) -> None:
    assert filters.glob(pattern, value) is matched
