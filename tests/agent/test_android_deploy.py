"""android-deploy against fake Google (token endpoint, Play edits API,
Firebase App Distribution) and Artifactory servers, answering as they do."""

from __future__ import annotations

import base64
import hashlib
import json
import pathlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conveyor_agent import android_deploy, errors
from tests.agent import fakes

ARTIFACT = b"PK\x03\x04 an android app bundle"
SHA = hashlib.sha256(ARTIFACT).hexdigest()
PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def google(api: fakes.FakeApi, tmp_path: pathlib.Path) -> dict[str, str]:
    """A service account key whose token_uri is the fake, which checks the JWT's signature."""
    pem = PRIVATE.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    key = {
        "type": "service_account",
        "client_email": "deployer@acme.iam.gserviceaccount.com",
        "private_key_id": "k1",
        "private_key": pem,
        "token_uri": f"{api.url}/token",
    }
    (tmp_path / "credentials").mkdir()
    (tmp_path / "credentials" / "key.json").write_text(json.dumps(key))
    (tmp_path / "artifacts" / "app-build-7").mkdir(parents=True)
    (tmp_path / "artifacts" / "app-build-7" / "app-release.aab").write_bytes(ARTIFACT)

    def token(request: fakes.Request) -> tuple[int, Any]:
        assert request.body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        header, claims, signature = request.body["assertion"].split(".")
        PRIVATE.public_key().verify(
            unb64(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        decoded = json.loads(unb64(claims))
        assert decoded["iss"] == key["client_email"]
        assert decoded["aud"] == key["token_uri"]
        return 200, {"access_token": f"ya29.{decoded['scope']}", "expires_in": 3599}

    api.route("POST", "/token", token)
    return {
        "CONVEYOR_CREDENTIALS_DIR": str(tmp_path / "credentials"),
        "CONVEYOR_ARTIFACTS": str(tmp_path / "artifacts"),
        "CONVEYOR_PLAY_API": api.url,
        "CONVEYOR_FIREBASE_API": api.url,
    }


APP = "/androidpublisher/v3/applications/com.acme.app"


def test_play_edit_upload_track_commit(fake_api: fakes.FakeApi, tmp_path: pathlib.Path) -> None:
    environ = google(fake_api, tmp_path)
    fake_api.route("POST", f"{APP}/edits", {"id": "e-1", "expiryTimeSeconds": "1700003600"})
    fake_api.route("POST", f"/upload{APP}/edits/e-1/bundles", {"versionCode": 42, "sha256": SHA})
    fake_api.route("PUT", f"{APP}/edits/e-1/tracks/production", lambda r: (200, r.body))
    fake_api.route("POST", f"{APP}/edits/e-1:commit", {"id": "e-1"})
    params = {
        "artifact": "app-build-7/app-release.aab",
        "store": "play",
        "packageName": "com.acme.app",
        "track": "production",
        "rollout": 0.1,
    }

    outputs = android_deploy.main(params, environ=environ)

    assert outputs == {
        "store": "play",
        "track": "production",
        "versionCode": 42,
        "sha256": SHA,
    }
    _token, insert, upload, track, commit = fake_api.requests
    assert insert.headers["authorization"] == (
        "Bearer ya29.https://www.googleapis.com/auth/androidpublisher"
    )
    assert upload.query == {"uploadType": "media"}
    assert upload.body == ARTIFACT
    assert track.body == {
        "track": "production",
        "releases": [{"versionCodes": ["42"], "status": "inProgress", "userFraction": 0.1}],
    }
    assert commit.path == f"{APP}/edits/e-1:commit"


def test_firebase_upload_waits_for_the_release_then_distributes(
    fake_api: fakes.FakeApi, tmp_path: pathlib.Path
) -> None:
    environ = google(fake_api, tmp_path)
    app = "projects/1234567890/apps/1:1234567890:android:abc"
    operation = f"{app}/releases/-/operations/op-1"
    fake_api.route("POST", f"/upload/v1/{app}/releases:upload", {"name": operation})
    polls = iter(
        [
            {"name": operation},
            {
                "name": operation,
                "done": True,
                "response": {
                    "result": "RELEASE_CREATED",
                    "release": {"name": f"{app}/releases/r-9"},
                },
            },
        ]
    )
    fake_api.route("GET", f"/v1/{operation}", lambda r: (200, next(polls)))
    fake_api.route("POST", f"/v1/{app}/releases/r-9:distribute", {})
    slept: list[float] = []

    outputs = android_deploy.main(
        {
            "artifact": "app-build-7/app-release.aab",
            "store": "firebase",
            "appId": "1:1234567890:android:abc",
            "groups": ["qa", "beta"],
        },
        environ=environ,
        sleep=slept.append,
    )

    assert outputs == {
        "store": "firebase",
        "appId": "1:1234567890:android:abc",
        "release": f"{app}/releases/r-9",
        "sha256": SHA,
    }
    upload = fake_api.requests[1]
    assert upload.headers["x-goog-upload-protocol"] == "raw"
    assert upload.headers["x-goog-upload-file-name"] == "app-release.aab"
    assert fake_api.requests[-1].body == {"groupAliases": ["qa", "beta"]}
    assert slept == [2.0, 2.0]


def test_artifactory_put_of_a_downloaded_artifact(
    fake_api: fakes.FakeApi, tmp_path: pathlib.Path
) -> None:
    fake_api.route("GET", "/ci/app.apk", ARTIFACT)
    fake_api.route(
        "PUT",
        "/artifactory/android/app.apk",
        {"repo": "android", "path": "/app.apk", "checksums": {"sha256": SHA}},
        status=201,
    )

    outputs = android_deploy.main(
        {
            "artifact": f"{fake_api.url}/ci/app.apk?token=1",
            "store": "artifactory",
            "destination": f"{fake_api.url}/artifactory/android/",
        },
        environ={"TOKEN": "t0k", "TMPDIR": str(tmp_path)},
    )

    assert outputs == {
        "store": "artifactory",
        "url": f"{fake_api.url}/artifactory/android/app.apk",
        "sha256": SHA,
    }
    put = fake_api.requests[1]
    assert put.body == ARTIFACT
    assert put.headers["authorization"] == "Bearer t0k"
    assert put.headers["x-checksum-sha256"] == SHA


def test_a_missing_artifact_is_named(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.JobError, match=r"no artifact a/b\.apk on the /artifacts volume"):
        android_deploy.main(
            {"artifact": "a/b.apk", "store": "play"}, environ={"CONVEYOR_ARTIFACTS": str(tmp_path)}
        )
