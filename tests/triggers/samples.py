"""The sample payloads in data/ and the headers their forge sends with them."""

from __future__ import annotations

import json
import pathlib
from typing import Any

from conveyor.triggers import deliveries, signatures

DATA = pathlib.Path(__file__).resolve().parent / "data"
SECRET = b"It's a Secret to Everybody"

# file -> (source, headers the forge sends besides the signature)
SAMPLES: dict[str, tuple[signatures.Source, dict[str, str]]] = {
    "github-push": (
        signatures.Source.GITHUB,
        {"X-GitHub-Event": "push", "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
    ),
    "github-tag": (
        signatures.Source.GITHUB,
        {"X-GitHub-Event": "push", "X-GitHub-Delivery": "a1b2c3d4-0000-11e3-81ab-4c9367dc0958"},
    ),
    "github-branch-deleted": (
        signatures.Source.GITHUB,
        {"X-GitHub-Event": "push", "X-GitHub-Delivery": "b1b2c3d4-0000-11e3-81ab-4c9367dc0958"},
    ),
    "github-pull-request": (
        signatures.Source.GITHUB,
        {
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": "c1b2c3d4-0000-11e3-81ab-4c9367dc0958",
        },
    ),
    "gitlab-push": (
        signatures.Source.GITLAB,
        {
            "X-Gitlab-Event": "Push Hook",
            "X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e",
        },
    ),
    "gitlab-tag-push": (
        signatures.Source.GITLAB,
        {
            "X-Gitlab-Event": "Tag Push Hook",
            "X-Gitlab-Event-UUID": "23792a34-cac6-4fda-95a8-c58e00a3954e",
        },
    ),
    "gitlab-merge-request": (
        signatures.Source.GITLAB,
        {
            "X-Gitlab-Event": "Merge Request Hook",
            "X-Gitlab-Event-UUID": "33792a34-cac6-4fda-95a8-c58e00a3954e",
        },
    ),
}


def raw(name: str) -> bytes:
    return (DATA / f"{name}.json").read_bytes()


def body(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(raw(name))
    return value


def delivery(name: str) -> deliveries.Delivery:
    source, headers = SAMPLES[name]
    return deliveries.read(
        source=source, headers=deliveries.Headers(headers), body=body(name), raw=raw(name)
    )
