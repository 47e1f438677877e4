"""JSON decoding that no depth of nesting can crash.

Pure: text in, data out. `json.loads` recurses in C and raises RecursionError
near Python's recursion limit (about 950 levels where kopf decodes a watch
event), while the API server accepts objects up to 10,000 levels deep: one
such object would stop the operator at every watch event and every list.

`loads` is `json.loads` on the fast path. When that raises RecursionError,
every object or array nested deeper than `KEEP_DEPTH` is replaced by the
string `TOO_DEEP` before decoding again: the object keeps its metadata (so its
status can say InvalidSpec) and the depth checks of `bounds` find the spot.

`loads_api` is for the API server's answers and watch events: it decodes with
orjson (about twice as fast as `json.loads` on a pod) when the text has fewer
than `FAST_BRACKETS` opening brackets, so fewer levels than that, a depth
`json.loads` returns too. orjson turns integers outside 64 bits into floats;
the API server never sends one (Go decodes a number to int64, else float64).
Any other text, or one orjson refuses (NaN, lone surrogates), goes to `loads`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# Deeper than any bound in `bounds`, far shallower than the recursion limit.
KEEP_DEPTH = 100
TOO_DEEP = "<conveyor: nested too deep>"
# A text with fewer opening brackets (strings' included) cannot nest deeper,
# and json.loads itself returns such depths (it fails near 950). A pod's
# watch event has about 90; long lists take the slow path.
FAST_BRACKETS = 512

# A JSON string (with escapes), or a bracket: all the scrubber needs to see.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def loads(data: str | bytes | bytearray) -> Any:
    """Decode JSON; containers nested deeper than KEEP_DEPTH become TOO_DEEP."""
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    try:
        return json.loads(text)
    except RecursionError:
        return json.loads(scrub(text, keep=KEEP_DEPTH))


def loads_api(data: str | bytes | bytearray) -> Any:
    """`loads` for what the API server sends (integers within 64 bits), faster."""
    if _shallow(data):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # loads decides: the same answer or error as ever
    return loads(data)


def _shallow(data: str | bytes | bytearray) -> bool:
    if isinstance(data, str):
        return data.count("{") + data.count("[") < FAST_BRACKETS
    return data.count(b"{") + data.count(b"[") < FAST_BRACKETS


def scrub(text: str, *, keep: int) -> str:
    """`text` with each object or array opened at depth `keep` replaced by TOO_DEEP."""
    out: list[str] = []
    depth = 0
    cut_from: int | None = None  # where the container being dropped starts
    written = 0
    marker = json.dumps(TOO_DEEP)
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in ("{", "["):
            depth += 1
            if depth == keep + 1 and cut_from is None:
                cut_from = match.start()
        elif token in ("}", "]"):
            if depth == keep + 1 and cut_from is not None:
                out.append(text[written:cut_from])
                out.append(marker)
                written = match.end()
                cut_from = None
            depth -= 1
    out.append(text[written:])
    return "".join(out)
