"""build: report what BuildKit pushed. The init container ran
`buildctl-daemonless.sh build ... --metadata-file FILE`; this reads FILE (env
BUILD_METADATA) and writes {"digest", "image"}."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from conveyor_agent import errors, params

DEFAULT_METADATA = "/outputs/metadata.json"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def main(job_params: Mapping[str, Any], *, environ: Mapping[str, str]) -> dict[str, Any]:
    path = environ.get("BUILD_METADATA") or DEFAULT_METADATA
    try:
        with open(path, encoding="utf-8") as file:
            metadata = json.load(file)
    except (OSError, ValueError) as exc:
        raise errors.JobError(f"no BuildKit metadata at {path}: {exc}") from None
    digest = metadata.get("containerimage.digest") if isinstance(metadata, dict) else None
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise errors.JobError(f"BuildKit's metadata has no image digest: {sorted(metadata)}")
    image = str(params.required(job_params, "image"))
    return {"digest": digest, "image": image}
