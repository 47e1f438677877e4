"""Credentials as kubectl finds them, through the kubernetes client's loader."""

from __future__ import annotations

import base64
import datetime
import os
import pathlib
import sys

import pytest
import yaml

from conveyor.k8s import login

API = "client.authentication.k8s.io/v1"


def kubeconfig(
    path: pathlib.Path, *, current: str | None = "a", users: dict | None = None, **contexts: dict
) -> pathlib.Path:
    config: dict = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "c",
                "cluster": {"server": "https://api.example:6443", "proxy-url": "http://proxy:3128"},
            },
            {"name": "plain", "cluster": {"server": "http://127.0.0.1:8080"}},
        ],
        "users": [{"name": n, "user": u} for n, u in (users or {"u": {"token": "abc"}}).items()],
        "contexts": [{"name": n, "context": c} for n, c in contexts.items()],
    }
    if current:
        config["current-context"] = current
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(autouse=True)
def no_kubeconfig(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_the_context_gives_server_token_namespace_and_proxy(tmp_path: pathlib.Path) -> None:
    path = kubeconfig(tmp_path / "k", a={"cluster": "c", "user": "u", "namespace": "team-a"})

    creds = login.load(kubeconfig=str(path))

    assert (creds.server, creds.namespace, creds.context) == (
        "https://api.example:6443",
        "team-a",
        "a",
    )
    assert creds.authorization == "Bearer abc"
    assert creds.proxy == "http://proxy:3128"
    assert creds.expires is None


def test_context_picks_another_context(tmp_path: pathlib.Path) -> None:
    path = kubeconfig(
        tmp_path / "k",
        a={"cluster": "c", "user": "u"},
        b={"cluster": "plain", "user": "u", "namespace": "b"},
    )

    creds = login.load(kubeconfig=str(path), context="b")

    assert (creds.server, creds.namespace, creds.context) == ("http://127.0.0.1:8080", "b", "b")
    with pytest.raises(login.LoginError, match="context 'nope' not found in kubeconfig"):
        login.load(kubeconfig=str(path), context="nope")


def test_a_kubeconfig_list_is_merged_first_file_first(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = kubeconfig(
        tmp_path / "1", current="a", a={"cluster": "c", "user": "u", "namespace": "one"}
    )
    second = kubeconfig(
        tmp_path / "2",
        current="b",
        users={"u": {"token": "other"}, "v": {"token": "vee"}},
        a={"cluster": "c", "user": "u", "namespace": "two"},
        b={"cluster": "c", "user": "v"},
    )
    listed = os.pathsep.join([str(tmp_path / "missing"), str(first), str(second)])
    monkeypatch.setenv("KUBECONFIG", listed)

    creds = login.load()
    from_second = login.load(context="b")

    # The first file's current-context, context and user win; the second adds b and v.
    assert (creds.context, creds.namespace, creds.authorization) == ("a", "one", "Bearer abc")
    assert from_second.authorization == "Bearer vee"
    assert login.context_names(kubeconfig=None) == ["a", "b"]


@pytest.mark.parametrize(
    ("env", "flag", "error"),
    [
        ("/nope/a", None, "KUBECONFIG names /nope/a, which does not exist"),
        (None, "/nope/b", "no kubeconfig: /nope/b does not exist"),
        (None, None, "no kubeconfig: set KUBECONFIG or use --kubeconfig"),
    ],
)
def test_no_kubeconfig(
    monkeypatch: pytest.MonkeyPatch, env: str | None, flag: str | None, error: str
) -> None:
    if env:
        monkeypatch.setenv("KUBECONFIG", env)
    with pytest.raises(login.LoginError, match=error):
        login.load(kubeconfig=flag)


def test_token_file_and_client_certificate(tmp_path: pathlib.Path) -> None:
    (tmp_path / "token").write_text("from-file\n")
    (tmp_path / "tls.crt").write_text("CERT")
    (tmp_path / "tls.key").write_text("KEY")
    users = {
        "file": {"tokenFile": str(tmp_path / "token")},
        "cert": {"client-certificate": "tls.crt", "client-key": "tls.key"},
    }
    path = kubeconfig(
        tmp_path / "k",
        users=users,
        a={"cluster": "c", "user": "file"},
        b={"cluster": "c", "user": "cert"},
    )

    by_file = login.load(kubeconfig=str(path))
    by_cert = login.load(kubeconfig=str(path), context="b")

    assert by_file.authorization == "Bearer from-file"
    assert by_cert.authorization is None
    assert (by_cert.certificate_path, by_cert.private_key_path) == (
        str(tmp_path / "tls.crt"),
        str(tmp_path / "tls.key"),
    )


def exec_user(tmp_path: pathlib.Path, *, expires: str | None, mode: str = "Never") -> dict:
    (tmp_path / "token").write_text("one")
    script = tmp_path / "plugin.py"
    status = f"{{'token': open({str(tmp_path / 'token')!r}).read()}}"
    extra = f"; s['expirationTimestamp'] = {expires!r}" if expires else ""
    script.write_text(
        "import json\n"
        f"s = {status}{extra}\n"
        f"print(json.dumps({{'apiVersion': {API!r}, 'kind': 'ExecCredential', 'status': s}}))\n"
    )
    return {
        "exec": {
            "apiVersion": API,
            "command": sys.executable,
            "args": [str(script)],
            "interactiveMode": mode,
        }
    }


def test_an_exec_plugin_gives_the_token_and_its_expiry(tmp_path: pathlib.Path) -> None:
    user = exec_user(tmp_path, expires="2030-01-02T03:04:05Z")
    path = kubeconfig(tmp_path / "k", users={"x": user}, a={"cluster": "c", "user": "x"})

    creds = login.load(kubeconfig=str(path))

    assert creds.authorization == "Bearer one"
    assert creds.expires == datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


def test_a_failing_exec_plugin_is_an_error_not_an_anonymous_login(tmp_path: pathlib.Path) -> None:
    user = {"exec": {"apiVersion": API, "command": "no-such-plugin", "installHint": "install it"}}
    path = kubeconfig(tmp_path / "k", users={"x": user}, a={"cluster": "c", "user": "x"})

    with pytest.raises(
        login.LoginError, match=r"(?s)context a: exec plugin no-such-plugin: .*install it"
    ):
        login.load(kubeconfig=str(path))


def test_source_loads_again_when_expired_or_after_a_401(tmp_path: pathlib.Path) -> None:
    soon = (datetime.datetime.now(datetime.UTC) + login.EXPIRY_SKEW / 2).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    user = exec_user(tmp_path, expires=None)
    path = kubeconfig(tmp_path / "k", users={"x": user}, a={"cluster": "c", "user": "x"})
    source = login.Source(kubeconfig=str(path))

    first = source.current()
    (tmp_path / "token").write_text("two")
    assert source.current() is first  # cached while it has not expired
    renewed = source.renew(stale=first)
    assert renewed.authorization == "Bearer two"
    assert source.renew(stale=first) is renewed  # someone else renewed already

    expiring = exec_user(tmp_path, expires=soon)
    path = kubeconfig(tmp_path / "k2", users={"x": expiring}, a={"cluster": "c", "user": "x"})
    source = login.Source(kubeconfig=str(path))
    first = source.current()
    assert first.expired(now=datetime.datetime.now(datetime.UTC))
    assert source.current() is not first  # expired: loaded again


def test_a_socks_proxy_is_refused_with_a_reason(tmp_path: pathlib.Path) -> None:
    path = kubeconfig(tmp_path / "k", a={"cluster": "c", "user": "u"})
    config = yaml.safe_load(path.read_text())
    config["clusters"][0]["cluster"]["proxy-url"] = "socks5://proxy:1080"
    path.write_text(yaml.safe_dump(config))

    with pytest.raises(login.LoginError, match="proxy-url socks5://proxy:1080: only http"):
        login.load(kubeconfig=str(path))


# --- isolated: the loader in a child process (what the operator uses) ---------


def test_an_isolated_source_loads_what_the_process_would(tmp_path: pathlib.Path) -> None:
    data = {
        "client-certificate-data": base64.b64encode(b"CERT").decode(),
        "client-key-data": base64.b64encode(b"KEY").decode(),
    }
    path = kubeconfig(tmp_path / "k", users={"cert": data}, a={"cluster": "c", "user": "cert"})
    config = yaml.safe_load(path.read_text())
    ca = base64.b64encode(b"CA").decode()
    config["clusters"][0]["cluster"]["certificate-authority-data"] = ca
    path.write_text(yaml.safe_dump(config))

    here = login.load(kubeconfig=str(path))
    there = login.Source(kubeconfig=str(path), isolated=True).current()

    same = ("server", "namespace", "context", "insecure", "authorization", "proxy", "expires")
    assert {f: getattr(there, f) for f in same} == {f: getattr(here, f) for f in same}
    # The library's temporary files go with the child: the contents are ours, private.
    for attr, content in (
        ("ca_path", "CA"),
        ("certificate_path", "CERT"),
        ("private_key_path", "KEY"),
    ):
        file = pathlib.Path(getattr(there, attr))
        assert file.read_text() == content
        assert file.stat().st_mode & 0o777 == 0o600
        assert file.parent.name.startswith("conveyor-login-")


def test_an_isolated_source_reports_the_childs_error_and_renews(tmp_path: pathlib.Path) -> None:
    user = exec_user(tmp_path, expires="2030-01-02T03:04:05Z")
    path = kubeconfig(tmp_path / "k", users={"x": user}, a={"cluster": "c", "user": "x"})
    source = login.Source(kubeconfig=str(path), isolated=True)
    source.prefetch()

    first = source.current()
    (tmp_path / "token").write_text("two")
    renewed = source.renew(stale=first)

    assert (first.authorization, first.expires) == (
        "Bearer one",
        datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    )
    assert renewed.authorization == "Bearer two"
    with pytest.raises(login.LoginError, match="context 'nope' not found in kubeconfig"):
        login.Source(kubeconfig=str(path), context="nope", isolated=True).current()
