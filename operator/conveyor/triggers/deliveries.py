"""What a delivery is about, read from its headers and payload as each forge writes them.

Pure. The facts the filters, names and concurrency policy need:

- github: id X-GitHub-Delivery, event X-GitHub-Event; a push's branch or tag
  from its ref, a pull_request's branch is its base branch, its group
  `pull/<number>`;
- gitlab: id X-Gitlab-Event-UUID (else Idempotency-Key), event body.object_kind;
  a merge_request's branch is its target branch, its group `mr/<iid>`;
- generic: id the body's SHA-256, event the trigger's event header, ref
  body.ref, revision body.revision (else body.after).

The group (runs of one group are the "same branch" of the concurrency
policy) is the ref unless said otherwise.
A redelivery (GitHub's retry or "Redeliver", GitLab's retry) keeps its id.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any

from conveyor.triggers import signatures

Source = signatures.Source
HEADS, TAGS = "refs/heads/", "refs/tags/"
_ZEROS = "0" * 40
# The headers templates and `when` may not see: they hold the secret or a credential.
SECRET_HEADERS = frozenset(
    {"authorization", "cookie", "x-gitlab-token", "x-hub-signature", "x-hub-signature-256"}
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Delivery:
    source: Source
    id: str
    event: str
    body_sha256: str
    ref: str = ""  # refs/heads/main, refs/tags/v1.2.0, or "" when the event has none
    branch: str | None = None  # the branch the filters match (a PR's base branch)
    tag: str | None = None
    revision: str = ""  # the commit to build
    group: str = ""  # runs of the same group are the "same branch" of the concurrency policy
    changed: tuple[str, ...] | None = None  # None: the payload does not list them all
    deleted: bool = False  # the push deletes its ref


class Headers(dict[str, str]):
    """Header names compared case-insensitively (`headers['x-github-event']` works too)."""

    def __init__(self, items: Mapping[str, str]) -> None:
        super().__init__({k.lower(): v for k, v in items.items()})

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


def visible_headers(headers: Mapping[str, str], *, hidden: frozenset[str] = frozenset()) -> Headers:
    """The headers a template may read: none that carries a secret."""
    secret = SECRET_HEADERS | {h.lower() for h in hidden}
    return Headers({k: v for k, v in headers.items() if k.lower() not in secret})


def read(
    *,
    source: Source,
    headers: Headers,
    body: Mapping[str, Any],
    raw: bytes,
    event_header: str = "X-Event",
) -> Delivery:
    digest = hashlib.sha256(raw).hexdigest()
    if source is Source.GITHUB:
        return _github(headers=headers, body=body, digest=digest)
    if source is Source.GITLAB:
        return _gitlab(headers=headers, body=body, digest=digest)
    ref = _text(body.get("ref"))
    revision = _text(body.get("revision")) or _text(body.get("after"))
    event = headers.get(event_header) or ""
    return Delivery(
        source=source, id=digest, event=event, body_sha256=digest, revision=revision, **_ref(ref)
    )


def _github(*, headers: Headers, body: Mapping[str, Any], digest: str) -> Delivery:
    event = headers.get("X-GitHub-Event") or ""
    delivery = headers.get("X-GitHub-Delivery") or digest
    common: dict[str, Any] = {
        "source": Source.GITHUB,
        "id": delivery,
        "event": event,
        "body_sha256": digest,
    }
    if event == "pull_request":
        pr = _dict(body.get("pull_request"))
        return Delivery(
            **common,
            ref=f"refs/pull/{pr.get('number') or body.get('number')}/head",
            branch=_text(_dict(pr.get("base")).get("ref")) or None,
            revision=_text(_dict(pr.get("head")).get("sha")),
            group=f"pull/{pr.get('number') or body.get('number')}",
        )
    ref = _text(body.get("ref"))
    commits = body.get("commits")
    changed = _changed(commits) if isinstance(commits, list) and commits else None
    return Delivery(
        **common,
        revision=_text(body.get("after")),
        changed=changed,
        deleted=body.get("deleted") is True,
        **_ref(ref),
    )


def _gitlab(*, headers: Headers, body: Mapping[str, Any], digest: str) -> Delivery:
    event = _text(body.get("object_kind")) or headers.get("X-Gitlab-Event") or ""
    delivery = headers.get("X-Gitlab-Event-UUID") or headers.get("Idempotency-Key") or digest
    common: dict[str, Any] = {
        "source": Source.GITLAB,
        "id": delivery,
        "event": event,
        "body_sha256": digest,
    }
    if event == "merge_request":
        mr = _dict(body.get("object_attributes"))
        return Delivery(
            **common,
            ref=f"refs/merge-requests/{mr.get('iid')}/head",
            branch=_text(mr.get("target_branch")) or None,
            revision=_text(_dict(mr.get("last_commit")).get("id")),
            group=f"mr/{mr.get('iid')}",
        )
    ref = _text(body.get("ref"))
    commits = body.get("commits")
    total = body.get("total_commits_count")
    complete = (
        isinstance(commits, list)
        and commits
        and not (isinstance(total, int) and total > len(commits))
    )
    after = _text(body.get("after"))
    return Delivery(
        **common,
        revision=_text(body.get("checkout_sha")) or after,
        changed=_changed(commits) if complete else None,
        deleted=after == _ZEROS,
        **_ref(ref),
    )


def _ref(ref: str) -> dict[str, Any]:
    branch = ref.removeprefix(HEADS) if ref.startswith(HEADS) else None
    tag = ref.removeprefix(TAGS) if ref.startswith(TAGS) else None
    return {"ref": ref, "branch": branch, "tag": tag, "group": ref}


def _changed(commits: Any) -> tuple[str, ...]:
    paths: set[str] = set()
    for commit in commits:
        for key in ("added", "modified", "removed"):
            files = _dict(commit).get(key)
            if isinstance(files, list):
                paths.update(f for f in files if isinstance(f, str))
    return tuple(sorted(paths))


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
