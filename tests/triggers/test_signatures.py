"""Signature verification: the forges' documented vectors, and what must fail."""

from __future__ import annotations

import pytest

from conveyor.triggers import signatures

Source = signatures.Source
# GitHub's "Validating webhook deliveries" documentation gives this example.
GITHUB_SECRET = b"It's a Secret to Everybody"
GITHUB_BODY = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_github_documented_vector() -> None:
    assert signatures.digest(secret=GITHUB_SECRET, body=GITHUB_BODY) == GITHUB_SIGNATURE
    assert signatures.verify(
        source=Source.GITHUB,
        secret=GITHUB_SECRET,
        body=GITHUB_BODY,
        headers={"X-Hub-Signature-256": GITHUB_SIGNATURE},
    )


@pytest.mark.parametrize(
    ("source", "headers", "body", "valid"),
    [
        (Source.GITHUB, {"x-hub-signature-256": GITHUB_SIGNATURE}, GITHUB_BODY, True),
        (
            Source.GITHUB,
            {"X-Hub-Signature-256": GITHUB_SIGNATURE.upper().replace("SHA256", "sha256")},
            GITHUB_BODY,
            True,
        ),
        (Source.GITHUB, {"X-Hub-Signature-256": GITHUB_SIGNATURE}, b"Hello, World?", False),
        (Source.GITHUB, {"X-Hub-Signature-256": GITHUB_SIGNATURE[7:]}, GITHUB_BODY, False),
        (Source.GITHUB, {"X-Hub-Signature-256": "sha256=" + "0" * 64}, GITHUB_BODY, False),
        (Source.GITHUB, {}, GITHUB_BODY, False),
        (Source.GITHUB, {"X-Gitlab-Token": GITHUB_SECRET.decode()}, GITHUB_BODY, False),
        (Source.GITLAB, {"X-Gitlab-Token": GITHUB_SECRET.decode()}, b"anything", True),
        (Source.GITLAB, {"X-Gitlab-Token": "It's a secret to everybody"}, b"anything", False),
        (Source.GITLAB, {"X-Hub-Signature-256": GITHUB_SIGNATURE}, GITHUB_BODY, False),
        (Source.GENERIC, {"X-Signature-256": GITHUB_SIGNATURE}, GITHUB_BODY, True),
        (Source.GENERIC, {"X-Signature-256": GITHUB_SIGNATURE[7:]}, GITHUB_BODY, True),
        (Source.GENERIC, {"X-Signature-256": GITHUB_SIGNATURE}, b"", False),
    ],
)
def test_verify(source: Source, headers: dict[str, str], body: bytes, valid: bool) -> None:
    assert (
        signatures.verify(source=source, secret=GITHUB_SECRET, body=body, headers=headers) is valid
    )


def test_an_empty_secret_accepts_nothing() -> None:
    headers = signatures.sign(source=Source.GITHUB, secret=b"", body=GITHUB_BODY)
    assert not signatures.verify(
        source=Source.GITHUB, secret=b"", body=GITHUB_BODY, headers=headers
    )


def test_generic_header_is_the_triggers() -> None:
    headers = signatures.sign(
        source=Source.GENERIC, secret=b"s", body=b"{}", generic_header="X-Acme-Signature"
    )
    assert list(headers) == ["X-Acme-Signature"]
    assert signatures.verify(
        source=Source.GENERIC,
        secret=b"s",
        body=b"{}",
        headers=headers,
        generic_header="X-Acme-Signature",
    )


@pytest.mark.parametrize("source", list(Source))
def test_sign_is_what_verify_accepts(source: Source) -> None:
    headers = signatures.sign(source=source, secret=b"k3y", body=b'{"a": 1}')
    assert signatures.verify(source=source, secret=b"k3y", body=b'{"a": 1}', headers=headers)
    assert not signatures.verify(source=source, secret=b"other", body=b'{"a": 1}', headers=headers)
