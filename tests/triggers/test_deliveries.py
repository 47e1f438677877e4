"""What each sample delivery is about, as the filters, names and policy see it."""

from __future__ import annotations

import pytest

from conveyor.triggers import deliveries
from tests.triggers import samples

Source = deliveries.Source


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (
            "github-push",
            {
                "source": Source.GITHUB,
                "id": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                "event": "push",
                "ref": "refs/heads/main",
                "branch": "main",
                "tag": None,
                "revision": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
                "group": "refs/heads/main",
                "changed": ("README.md", "src/retry/backoff.go", "src/retry/backoff_test.go"),
                "deleted": False,
            },
        ),
        (
            "github-tag",
            {
                "event": "push",
                "ref": "refs/tags/v1.4.0",
                "branch": None,
                "tag": "v1.4.0",
                "revision": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
                "changed": None,
                "deleted": False,
            },
        ),
        ("github-branch-deleted", {"branch": "feature/retry", "deleted": True, "changed": None}),
        (
            "github-pull-request",
            {
                "event": "pull_request",
                "ref": "refs/pull/42/head",
                "branch": "main",
                "tag": None,
                "revision": "c4f3e8b2a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6",
                "group": "pull/42",
                "changed": None,
            },
        ),
        (
            "gitlab-push",
            {
                "source": Source.GITLAB,
                "id": "13792a34-cac6-4fda-95a8-c58e00a3954e",
                "event": "push",
                "branch": "main",
                "revision": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
                "changed": ("CHANGELOG", "app/controller/application.rb"),
                "deleted": False,
            },
        ),
        (
            "gitlab-tag-push",
            {
                "event": "tag_push",
                "tag": "v1.0.0",
                "branch": None,
                "changed": None,
                "revision": "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
            },
        ),
        (
            "gitlab-merge-request",
            {
                "event": "merge_request",
                "branch": "main",
                "group": "mr/1",
                "revision": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
                "changed": None,
            },
        ),
    ],
)
def test_read(sample: str, expected: dict[str, object]) -> None:
    delivery = samples.delivery(sample)
    assert {k: getattr(delivery, k) for k in expected} == expected


def test_generic_delivery_id_is_the_body_hash() -> None:
    raw = b'{"ref": "refs/heads/main", "revision": "abc"}'
    delivery = deliveries.read(
        source=Source.GENERIC,
        headers=deliveries.Headers({"X-Event": "build"}),
        body={"ref": "refs/heads/main", "revision": "abc"},
        raw=raw,
    )
    assert delivery.id == delivery.body_sha256
    assert (delivery.event, delivery.branch, delivery.revision) == ("build", "main", "abc")


def test_a_gitlab_push_listing_fewer_commits_than_it_has_lists_no_paths() -> None:
    body = samples.body("gitlab-push") | {"total_commits_count": 25}
    delivery = deliveries.read(
        source=Source.GITLAB, headers=deliveries.Headers({}), body=body, raw=b"{}"
    )
    assert delivery.changed is None


def test_headers_are_case_insensitive_and_hide_secrets() -> None:
    headers = deliveries.visible_headers(
        {
            "X-GitHub-Event": "push",
            "X-Hub-Signature-256": "sha256=...",
            "X-Gitlab-Token": "t",
            "Authorization": "Bearer x",
            "X-Acme-Signature": "s",
        },
        hidden=frozenset({"X-ACME-Signature"}),
    )
    assert headers["x-github-event"] == headers["X-GitHub-Event"] == "push"
    assert "X-GITHUB-EVENT" in headers
    assert dict(headers) == {"x-github-event": "push"}
