"""Credentials, read only from what the pod mounts: files of a Secret's keys
(a volume with `items`, at /credentials by default) or env vars set from a
secretKeyRef. Never from params, never printed."""

from __future__ import annotations

import os
from collections.abc import Mapping

DEFAULT_DIR = "/credentials"


def file(name: str, *, environ: Mapping[str, str]) -> str:
    """The content of the mounted key `name`, stripped; "" when not mounted."""
    directory = environ.get("CONVEYOR_CREDENTIALS_DIR", DEFAULT_DIR)
    try:
        with open(os.path.join(directory, name), encoding="utf-8") as handle:
            return handle.read().strip()
    except (FileNotFoundError, NotADirectoryError):
        return ""
