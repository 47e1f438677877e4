"""kopf's login, from the same login.Source as the operator's own client:
kopf calls it at start, again after a 401 on its watches, and when the
credentials' expiration passes."""

from __future__ import annotations

from typing import Any

import kopf

from conveyor.k8s import login

PRIORITY = 100  # above kopf's own fallbacks, which are not used with a handler


@kopf.on.login()
def login_from_source(memo: kopf.Memo, **_: Any) -> kopf.ConnectionInfo:
    """Sync on purpose: kopf runs it in a thread, so an exec plugin can take its time."""
    source: login.Source = memo.get("login") or login.Source()
    given: login.Credentials | None = memo.get("kopf_credentials")
    try:
        creds = source.current() if given is None else source.renew(stale=given)
    except login.LoginError as exc:
        raise kopf.LoginError(str(exc)) from None
    memo["kopf_credentials"] = creds
    return connection_info(creds)


def connection_info(creds: login.Credentials) -> kopf.ConnectionInfo:
    scheme, _, token = (creds.authorization or "").partition(" ")
    return kopf.ConnectionInfo(
        server=creds.server,
        ca_path=creds.ca_path,
        insecure=creds.insecure,
        scheme=scheme or None,
        token=token or None,
        certificate_path=creds.certificate_path,
        private_key_path=creds.private_key_path,
        default_namespace=creds.namespace,
        proxy_url=creds.proxy,
        expiration=creds.expires,
        priority=PRIORITY,
    )
