"""kopf's login is the operator's own credentials, expiry included."""

from __future__ import annotations

import datetime

import kopf

from conveyor.handlers import login as kopf_login
from conveyor.k8s import login


def test_credentials_become_kopf_connection_info() -> None:
    until = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    creds = login.Credentials(
        server="https://api:6443",
        namespace="team-a",
        ca_path="/ca.crt",
        authorization="Bearer t0k3n",
        proxy="http://proxy:3128",
        expires=until,
    )

    info = kopf_login.connection_info(creds)

    assert isinstance(info, kopf.ConnectionInfo)
    assert (info.server, info.ca_path, info.scheme, info.token) == (
        "https://api:6443",
        "/ca.crt",
        "Bearer",
        "t0k3n",
    )
    assert (info.default_namespace, info.proxy_url, info.expiration) == (
        "team-a",
        "http://proxy:3128",
        until,
    )


def test_a_client_certificate_has_no_token() -> None:
    creds = login.Credentials(
        server="https://api:6443", namespace="default", certificate_path="c", private_key_path="k"
    )

    info = kopf_login.connection_info(creds)

    assert (info.token, info.scheme, info.certificate_path, info.private_key_path) == (
        None,
        None,
        "c",
        "k",
    )
