"""android-build: the agent's two steps around Gradle. The pod shares one
workspace volume ($CONVEYOR_WORKSPACE, default /workspace) between:

1. `conveyor-agent android-build --step checkout` (init container, agent
   image): clones params.repository at params.revision into <workspace>/src
   (conveyor_agent.git; credentials from env GIT_TOKEN, or GIT_USERNAME and
   GIT_PASSWORD), makes the Gradle wrapper executable, and records the commit
   in <workspace>/checkout.json;
2. `./gradlew --no-daemon <gradleTask>` (init container, the Android SDK
   image): the build, the template's plain command;
3. `conveyor-agent android-build` (main container, agent image): the first
   .apk or .aab (by path) under <module>/build/outputs, its SHA-256, and a
   copy at /artifacts/<pipelinejob>/ ($CONVEYOR_ARTIFACTS; env PIPELINEJOB)
   when a volume is mounted there.

Outputs: {"artifact", "sha256", "commit"}; `artifact` is the path on the
artifacts volume (what android-deploy's `artifact` takes), else the path in
the checkout.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import sys
from collections.abc import Mapping
from typing import Any

from conveyor_agent import errors, git, params

DEFAULT_WORKSPACE = "/workspace"
DEFAULT_ARTIFACTS = "/artifacts"
SOURCE = "src"
CHECKOUT_RECORD = "checkout.json"
OUTPUT_TYPES = ("apk", "aab")
_CHUNK = 1024 * 1024


def checkout(job_params: Mapping[str, Any], *, environ: Mapping[str, str]) -> dict[str, Any]:
    """Step 1: the source in the workspace; outputs {"commit"}."""
    workspace = environ.get("CONVEYOR_WORKSPACE") or DEFAULT_WORKSPACE
    source = os.path.join(workspace, SOURCE)
    commit = git.checkout(
        repository=str(params.required(job_params, "repository")),
        revision=str(job_params.get("revision") or "main"),
        into=source,
        environ=environ,
    )
    # Committed without its executable bit (from Windows, say) it would not start.
    wrapper = os.path.join(source, "gradlew")
    if os.path.isfile(wrapper):
        mode = os.stat(wrapper).st_mode
        os.chmod(wrapper, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    record = {"commit": commit}
    with open(os.path.join(workspace, CHECKOUT_RECORD), "w", encoding="utf-8") as file:
        json.dump(record, file)
    return record


def main(job_params: Mapping[str, Any], *, environ: Mapping[str, str]) -> dict[str, Any]:
    """Step 3: the artifact Gradle left, checksummed and kept; the outputs."""
    workspace = environ.get("CONVEYOR_WORKSPACE") or DEFAULT_WORKSPACE
    output = job_params.get("output") or "apk"
    if output not in OUTPUT_TYPES:
        raise errors.JobError(f"params.output: {output!r} is not apk or aab")
    source = os.path.join(workspace, SOURCE)
    found = find_artifact(
        source=source,
        module=str(job_params.get("module") or "app"),
        output=output,
        task=str(job_params.get("gradleTask") or "the Gradle build"),
    )
    digest = sha256(os.path.join(source, found))
    commit = _commit(workspace)
    artifacts = environ.get("CONVEYOR_ARTIFACTS") or DEFAULT_ARTIFACTS
    if os.path.isdir(artifacts):
        found = keep(os.path.join(source, found), artifacts=artifacts, environ=environ)
    else:
        print(f"no volume at {artifacts}: {found} is gone with this pod", file=sys.stderr)
    return {"artifact": found, "sha256": digest, "commit": commit}


def outputs_dir(module: str) -> str:
    """Where Gradle puts a module's outputs: ":feature:app" -> feature/app/build/outputs."""
    parts = module.strip(":").split(":")
    if not all(parts) or any(p in (".", "..") or "/" in p or "\\" in p for p in parts):
        raise errors.JobError(f"params.module: {module!r} is not a Gradle project path")
    return "/".join([*parts, "build", "outputs"])


def find_artifact(*, source: str, module: str, output: str, task: str) -> str:
    """The first .<output> file under the module's outputs, as a path in `source`."""
    where = outputs_dir(module)
    found = sorted(
        os.path.relpath(os.path.join(directory, name), source)
        for directory, _, files in os.walk(os.path.join(source, where))
        for name in files
        if name.endswith(f".{output}")
    )
    if not found:
        raise errors.JobError(f"no .{output} file under {where} after {task}")
    return found[0]


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def keep(path: str, *, artifacts: str, environ: Mapping[str, str]) -> str:
    """Copy `path` to <artifacts>/<pipelinejob>/; the copy's path in `artifacts`."""
    pipelinejob = environ.get("PIPELINEJOB") or ""
    if not pipelinejob or "/" in pipelinejob or pipelinejob in (".", ".."):
        raise errors.JobError("env PIPELINEJOB: the PipelineJob's name is needed for /artifacts")
    os.makedirs(os.path.join(artifacts, pipelinejob), exist_ok=True)
    name = os.path.basename(path)
    shutil.copyfile(path, os.path.join(artifacts, pipelinejob, name))
    return f"{pipelinejob}/{name}"


def _commit(workspace: str) -> str:
    path = os.path.join(workspace, CHECKOUT_RECORD)
    try:
        with open(path, encoding="utf-8") as file:
            commit = json.load(file).get("commit")
    except (OSError, ValueError, AttributeError) as exc:
        raise errors.JobError(f"no checkout record at {path}: {exc}") from None
    if not isinstance(commit, str) or not commit:
        raise errors.JobError(f"the checkout record at {path} names no commit")
    return commit
