"""Is a delivery signed with the trigger's secret? Compared in constant time.

- github: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`;
- gitlab: `X-Gitlab-Token: <the secret token>` (GitLab signs nothing: the
  token is a shared password sent with each delivery);
- generic: an HMAC-SHA256 of the body in a header (`X-Signature-256` unless
  the trigger names another), as `sha256=<hex>` or bare hex.

`sign` makes the headers a forge would send (`conveyor trigger test`).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Mapping


class Source(enum.StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"
    GENERIC = "generic"


GITHUB_HEADER = "X-Hub-Signature-256"
GITLAB_HEADER = "X-Gitlab-Token"
GENERIC_HEADER = "X-Signature-256"
_PREFIX = "sha256="


def digest(*, secret: bytes, body: bytes) -> str:
    """`sha256=<hex>`: the HMAC-SHA256 of `body` as GitHub writes it."""
    return _PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def header_of(*, source: Source, generic_header: str = GENERIC_HEADER) -> str:
    """The header that carries the signature (or token) for `source`."""
    if source is Source.GITHUB:
        return GITHUB_HEADER
    if source is Source.GITLAB:
        return GITLAB_HEADER
    return generic_header


def verify(
    *,
    source: Source,
    secret: bytes,
    body: bytes,
    headers: Mapping[str, str],
    generic_header: str = GENERIC_HEADER,
) -> bool:
    """True if the delivery carries a valid signature (or token) for `secret`."""
    if not secret:
        return False  # an empty secret would accept anyone's HMAC
    given = _header(headers, header_of(source=source, generic_header=generic_header))
    if given is None:
        return False
    if source is Source.GITLAB:
        return hmac.compare_digest(given.encode(), secret)
    if source is Source.GENERIC and not given.startswith(_PREFIX):
        given = _PREFIX + given
    return hmac.compare_digest(
        given.strip().lower().encode(), digest(secret=secret, body=body).encode()
    )


def sign(
    *, source: Source, secret: bytes, body: bytes, generic_header: str = GENERIC_HEADER
) -> dict[str, str]:
    """The signature header a forge would send with `body`."""
    header = header_of(source=source, generic_header=generic_header)
    if source is Source.GITLAB:
        return {header: secret.decode()}
    return {header: digest(secret=secret, body=body)}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # HTTP header names are case-insensitive; aiohttp's are, a plain dict is not.
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value
