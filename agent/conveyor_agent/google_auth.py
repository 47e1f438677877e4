"""An OAuth 2.0 access token for a Google service account (Play, Firebase):
the JWT-bearer grant, an RS256-signed assertion exchanged at the key file's
token_uri. The signature uses the `cryptography` package: signing is not for
writing by hand."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conveyor_agent import errors, http

TOKEN_URI = "https://oauth2.googleapis.com/token"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assertion(key: Mapping[str, Any], *, scope: str, now: float) -> str:
    """The signed JWT that asks `token_uri` for a token with `scope`."""
    try:
        email, pem = key["client_email"], key["private_key"]
    except KeyError as missing:
        raise errors.JobError(f"the service account key has no {missing}") from None
    header = {"alg": "RS256", "typ": "JWT", "kid": key.get("private_key_id", "")}
    claims = {
        "iss": email,
        "scope": scope,
        "aud": key.get("token_uri") or TOKEN_URI,
        "iat": int(now),
        "exp": int(now) + 3600,
    }
    signing_input = ".".join(_b64(json.dumps(p).encode()) for p in (header, claims))
    private_key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise errors.JobError("the service account key is not an RSA key")
    signature = private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def access_token(key: Mapping[str, Any], *, scope: str, now: float | None = None) -> str:
    signed = assertion(key, scope=scope, now=time.time() if now is None else now)
    answer = http.request(
        "POST",
        str(key.get("token_uri") or TOKEN_URI),
        form={"grant_type": GRANT, "assertion": signed},
    )
    if not isinstance(answer, dict) or "access_token" not in answer:
        raise errors.JobError("the token endpoint answered without an access_token")
    return str(answer["access_token"])


def load_key(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as file:
            key = json.load(file)
    except (OSError, ValueError) as exc:
        raise errors.JobError(f"cannot read the service account key {path}: {exc}") from None
    if not isinstance(key, dict):
        raise errors.JobError(f"{path} is not a service account key file")
    return key
