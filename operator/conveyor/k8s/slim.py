"""What the store keeps of an object: the fields the operator reads, not
the whole body.

A PipelineJob is kept twice in the store's view: as its parsed model (what
the core reads) and as a slim body for the few readers of raw fields (the
Job renderer reads `spec`, a status patch is made against `status`, an
Event names the object, a PipelineCronJob's and a PipelineRun's children
are read by label and annotation). The slim body is held as compact JSON
bytes and decoded when read: a decoded body costs six times its JSON in
Python objects (a key string, a dict, a str per field, per object), and the
readers are a write, a render, an Event, each far rarer than the object is
held. Of a Job or a pod only metadata and status are read (`core/observe`):
their spec, the bulk of a pod, is not kept.

Fields outside these lists are dropped at the door; a new reader of a
field adds it here (tests/k8s/test_slim.py lists what is kept).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from conveyor.core import names, safejson

Key = tuple[str, str]
T = TypeVar("T")

# The metadata fields read of any object the store keeps.
METADATA = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "labels",
)
# Annotations are read only in Conveyor's own domain (cron's scheduled-at);
# a user's (kubectl's last-applied-configuration: a copy of the spec) are not.
ANNOTATION_PREFIX = f"{names.API_GROUP}/"
# A Job's owner (the adoption check) is read; a pod's is not.
JOB_METADATA = (*METADATA, "ownerReferences")


def metadata(md: Mapping[str, Any], *, fields: tuple[str, ...] = METADATA) -> dict[str, Any]:
    """The read fields of `md`, with Conveyor's annotations only; the
    namespace interned (every key of the store repeats it)."""
    out = {f: md[f] for f in fields if f in md}
    if isinstance(out.get("namespace"), str):
        out["namespace"] = sys.intern(out["namespace"])
    annotations = md.get("annotations")
    if isinstance(annotations, Mapping):
        ours = {k: v for k, v in annotations.items() if k.startswith(ANNOTATION_PREFIX)}
        if ours:
            out["annotations"] = ours
    return out


def pipelinejob(body: Mapping[str, Any]) -> dict[str, Any]:
    """A PipelineJob's read fields: metadata, spec (rendered), status."""
    slim: dict[str, Any] = {"metadata": metadata(body.get("metadata") or {})}
    for field in ("spec", "status"):
        if field in body:
            slim[field] = body[field]
    return slim


def owned(body: Mapping[str, Any]) -> dict[str, Any]:
    """A Job's or pod's read fields: metadata and status; no spec."""
    slim: dict[str, Any] = {"metadata": metadata(body.get("metadata") or {}, fields=JOB_METADATA)}
    if "status" in body:
        slim["status"] = body["status"]
    return slim


def lean(body: dict[str, Any]) -> dict[str, Any]:
    """The body without metadata.managedFields (about half of a small object's
    bytes, and never read here), in the shapes the shell relies on: metadata,
    its labels and annotations, and status are objects, names strings; a
    field of another type (the API server refuses most; a hand-made body or
    a future version may not) reads as unset rather than raising later."""
    md = body.get("metadata")
    md = {k: v for k, v in md.items() if k != "managedFields"} if isinstance(md, Mapping) else {}
    for field in ("labels", "annotations"):
        value = md.get(field)
        if value is not None and not (
            isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values())
        ):
            del md[field]
    for field in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp"):
        if field in md and not isinstance(md[field], str):
            del md[field]
    out = {**body, "metadata": md}
    if "status" in out and not isinstance(out["status"], Mapping):
        del out["status"]
    return out


def encode(value: Any) -> bytes:
    # ASCII: a lone surrogate (valid in JSON text) would not encode as UTF-8.
    return json.dumps(value, separators=(",", ":")).encode("ascii")


def decode(blob: bytes) -> Any:
    return safejson.loads(blob)


@dataclasses.dataclass(frozen=True, slots=True)
class Kept:
    """A PipelineJob's slim body (`pipelinejob`), encoded: its spec apart,
    so a version with the same spec (a status change) reuses the parsed one."""

    spec: bytes
    rest: bytes

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = decode(self.rest)
        spec = decode(self.spec)
        if spec is not None:
            body["spec"] = spec
        return body


class Encoded(Mapping[Key, dict[str, Any]], Generic[T]):
    """A read-only view of encoded bodies: each read decodes a fresh copy
    (so a reader may change what it got without touching the store)."""

    def __init__(self, kept: Mapping[Key, T], *, read: Callable[[T], dict[str, Any]]) -> None:
        self._kept = kept
        self._read = read

    def __getitem__(self, key: Key) -> dict[str, Any]:
        return self._read(self._kept[key])

    def __contains__(self, key: object) -> bool:
        return key in self._kept

    def __iter__(self) -> Iterator[Key]:
        return iter(self._kept)

    def __len__(self) -> int:
        return len(self._kept)
