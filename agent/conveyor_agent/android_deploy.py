"""android-deploy: upload an APK or AAB to Google Play (the edits API: insert,
upload, track, commit), Firebase App Distribution (upload, wait for the
release, distribute to groups) or an artifact repository (an HTTP PUT).

The artifact is an http(s) URL, downloaded, or a path on the volume the
Worker mounts at /artifacts (what android-build leaves there). Google
credentials: a service account key mounted at /credentials/key.json.
Artifactory: env TOKEN, or USERNAME and PASSWORD, from the Secret.

Outputs: {"store", "sha256"} and "track", "versionCode" (play); "appId",
"release" (firebase); "url" (artifactory).
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from conveyor_agent import credentials, errors, google_auth, http, params

PLAY = "https://androidpublisher.googleapis.com"
FIREBASE = "https://firebaseappdistribution.googleapis.com"
PLAY_SCOPE = "https://www.googleapis.com/auth/androidpublisher"
FIREBASE_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
UPLOAD_TIMEOUT = 600.0


def main(
    job_params: Mapping[str, Any],
    *,
    environ: Mapping[str, str],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    path = _artifact(str(params.required(job_params, "artifact")), environ=environ)
    with open(path, "rb") as file:
        data = file.read()
    digest = hashlib.sha256(data).hexdigest()
    store = params.required(job_params, "store")
    name = os.path.basename(path)
    if store == "play":
        result = _play(job_params, data=data, aab=name.endswith(".aab"), environ=environ)
    elif store == "firebase":
        result = _firebase(job_params, data=data, name=name, environ=environ, sleep=sleep)
    elif store == "artifactory":
        result = _artifactory(job_params, data=data, name=name, digest=digest, environ=environ)
    else:
        raise errors.JobError(f"params.store: {store!r} is not play, firebase or artifactory")
    return {"store": store, **result, "sha256": digest}


def _artifact(artifact: str, *, environ: Mapping[str, str]) -> str:
    if not artifact.startswith(("https://", "http://")):
        path = os.path.join(environ.get("CONVEYOR_ARTIFACTS", "/artifacts"), artifact)
        if not os.path.isfile(path):
            raise errors.JobError(f"no artifact {artifact} on the /artifacts volume")
        return path
    name = os.path.basename(urllib.parse.urlsplit(artifact).path) or "artifact"
    target = os.path.join(environ.get("TMPDIR", "/tmp"), name)
    try:
        urllib.request.urlretrieve(artifact, target)
    except OSError as exc:
        raise errors.JobError(f"cannot download {artifact.split('?')[0]}: {exc}") from None
    return target


def _google_headers(scope: str, *, environ: Mapping[str, str]) -> dict[str, str]:
    directory = environ.get("CONVEYOR_CREDENTIALS_DIR", credentials.DEFAULT_DIR)
    key = google_auth.load_key(os.path.join(directory, "key.json"))
    return {"Authorization": "Bearer " + google_auth.access_token(key, scope=scope)}


def _play(
    job_params: Mapping[str, Any], *, data: bytes, aab: bool, environ: Mapping[str, str]
) -> dict[str, Any]:
    package = urllib.parse.quote(str(params.required(job_params, "packageName")))
    track = str(params.required(job_params, "track"))
    base = environ.get("CONVEYOR_PLAY_API", PLAY)
    headers = _google_headers(PLAY_SCOPE, environ=environ)
    app = f"/androidpublisher/v3/applications/{package}"
    edit = http.request("POST", f"{base}{app}/edits", headers=headers, body={})["id"]
    kind = "bundles" if aab else "apks"
    uploaded = http.request(
        "POST",
        http.url(base, f"/upload{app}/edits/{edit}/{kind}", {"uploadType": "media"}),
        headers={**headers, "Content-Type": "application/octet-stream"},
        data=data,
        timeout=UPLOAD_TIMEOUT,
    )
    version = uploaded["versionCode"]
    release: dict[str, Any] = {"versionCodes": [str(version)], "status": "completed"}
    if job_params.get("rollout") is not None and float(job_params["rollout"]) < 1:
        release.update(status="inProgress", userFraction=float(job_params["rollout"]))
    http.request(
        "PUT",
        f"{base}{app}/edits/{edit}/tracks/{urllib.parse.quote(track)}",
        headers=headers,
        body={"track": track, "releases": [release]},
    )
    http.request("POST", f"{base}{app}/edits/{edit}:commit", headers=headers)
    return {"track": track, "versionCode": version}


def _firebase(
    job_params: Mapping[str, Any],
    *,
    data: bytes,
    name: str,
    environ: Mapping[str, str],
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    app_id = str(params.required(job_params, "appId"))
    parts = app_id.split(":")
    if len(parts) < 4:
        raise errors.JobError(
            f"params.appId: {app_id!r} is not a Firebase app id (1:<number>:android:<hash>)"
        )
    base = environ.get("CONVEYOR_FIREBASE_API", FIREBASE)
    headers = _google_headers(FIREBASE_SCOPE, environ=environ)
    operation = http.request(
        "POST",
        f"{base}/upload/v1/projects/{parts[1]}/apps/{app_id}/releases:upload",
        headers={
            **headers,
            "Content-Type": "application/octet-stream",
            "X-Goog-Upload-Protocol": "raw",
            "X-Goog-Upload-File-Name": name,
        },
        data=data,
        timeout=UPLOAD_TIMEOUT,
    )
    for _ in range(150):  # the upload is processed asynchronously; about 5 minutes
        if operation.get("done"):
            break
        sleep(2.0)
        operation = http.request("GET", f"{base}/v1/{operation['name']}", headers=headers)
    else:
        raise errors.JobError("Firebase did not finish processing the upload in 5 minutes")
    if "error" in operation:
        raise errors.JobError(f"Firebase refused the upload: {operation['error'].get('message')}")
    release = operation["response"]["release"]["name"]
    groups = list(job_params.get("groups") or [])
    if groups:
        http.request(
            "POST",
            f"{base}/v1/{release}:distribute",
            headers=headers,
            body={"groupAliases": groups},
        )
    return {"appId": app_id, "release": release}


def _artifactory(
    job_params: Mapping[str, Any],
    *,
    data: bytes,
    name: str,
    digest: str,
    environ: Mapping[str, str],
) -> dict[str, Any]:
    url = str(params.required(job_params, "destination"))
    if url.endswith("/"):
        url += urllib.parse.quote(name)
    headers = {"X-Checksum-Sha256": digest, "Content-Type": "application/octet-stream"}
    if environ.get("TOKEN"):
        headers["Authorization"] = "Bearer " + environ["TOKEN"]
    elif environ.get("USERNAME"):
        pair = f"{environ['USERNAME']}:{environ.get('PASSWORD', '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    http.request("PUT", url, headers=headers, data=data, timeout=UPLOAD_TIMEOUT)
    return {"url": url}
