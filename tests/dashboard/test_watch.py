"""Watch stream decoding: lines split across chunks, bad lines skipped, an
ERROR event either asks for a fresh listing (410) or fails the watch."""

from __future__ import annotations

import json

import pytest

from conveyor.dashboard import watch
from conveyor.k8s import api


def test_lines_split_across_chunks_are_joined() -> None:
    event = json.dumps({"type": "ADDED", "object": {"metadata": {"name": "a"}}}).encode()
    lines, rest = watch.split_lines(b"", event[:10])
    assert (lines, rest) == ([], event[:10])
    lines, rest = watch.split_lines(rest, event[10:] + b"\n\n" + event[:3])
    assert lines == [event]
    assert rest == event[:3]


@pytest.mark.parametrize(
    ("line", "decoded"),
    [
        (b'{"type":"MODIFIED","object":{"a":1}}', ("MODIFIED", {"a": 1})),
        (b"not json", None),
        (b'{"type":"ADDED","object":"x"}', None),
        (b"[]", None),
    ],
)
def test_decode(line: bytes, decoded: object) -> None:
    assert watch.decode(line) == decoded


def test_error_events() -> None:
    watch.check(type_="ADDED", obj={})
    with pytest.raises(watch.Gone):
        watch.check(type_="ERROR", obj={"code": 410, "message": "too old resource version"})
    with pytest.raises(api.ApiError) as raised:
        watch.check(type_="ERROR", obj={"code": 500, "reason": "InternalError"})
    assert raised.value.status == 500


def test_every_kind_is_watched_read_only_and_scoped_to_conveyor() -> None:
    names = {k.name for k in watch.KINDS}
    assert names == {"pipelinejobs", "workers", "pipelineruns", "pipelines", "pods", "events"}
    pods = next(k for k in watch.KINDS if k.name == "pods")
    assert pods.params == {"labelSelector": "conveyor.dev/pipelinejob"}
