"""Manifests: read from files, directories and URLs (YAML or JSON, many
documents, `kind: List` unpacked), and a promoted image pinned to its digest."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from conveyor_agent import errors

SUFFIXES = (".yaml", ".yml", ".json")
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str, *, source: str) -> list[dict[str, Any]]:
    try:
        documents = list(yaml.load_all(text, Loader=_LOADER))
    except yaml.YAMLError as exc:
        raise errors.JobError(f"{source} is not valid YAML: {exc}") from None
    objects: list[dict[str, Any]] = []
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict) or "kind" not in document:
            raise errors.JobError(f"{source} holds something that is not a Kubernetes object")
        if document["kind"].endswith("List") and "items" in document:
            objects.extend(document["items"] or [])
        else:
            objects.append(document)
    return objects


def read(sources: Iterable[str], *, workdir: str) -> list[dict[str, Any]]:
    """The objects of every source, in order; directories are read recursively, sorted."""
    objects: list[dict[str, Any]] = []
    for source in sources:
        if source.startswith(("https://", "http://")):
            objects.extend(parse(_download(source), source=source))
            continue
        path = os.path.join(workdir, source)
        if os.path.isdir(path):
            files = sorted(
                os.path.join(root, name)
                for root, _, names in os.walk(path)
                for name in names
                if name.endswith(SUFFIXES)
            )
        elif os.path.isfile(path):
            files = [path]
        else:
            raise errors.JobError(f"manifest {source} not found under {workdir}")
        for name in files:
            with open(name, encoding="utf-8") as file:
                objects.extend(parse(file.read(), source=name))
    return objects


def _download(address: str) -> str:
    try:
        with urllib.request.urlopen(address, timeout=60) as response:
            data: bytes = response.read()
    except OSError as exc:
        raise errors.JobError(f"cannot download {address.split('?')[0]}: {exc}") from None
    return data.decode("utf-8")


def pin(value: Any, *, image: str, reference: str) -> Any:
    """A copy of `value` in which every container running `image` (bare, with a
    tag or a digest) runs `reference` (image@digest) instead."""
    if isinstance(value, list):
        return [pin(v, image=image, reference=reference) for v in value]
    if not isinstance(value, Mapping):
        return value
    result = {k: pin(v, image=image, reference=reference) for k, v in value.items()}
    current = result.get("image")
    if (
        "name" in result
        and isinstance(current, str)
        and (current == image or current.startswith((image + ":", image + "@")))
    ):
        result["image"] = reference
    return result
