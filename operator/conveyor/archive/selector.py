"""Equality-based label selectors (`a=b,c!=d,e,!f`), as kubectl's -l takes
them, for the archive's queries. Pure."""

from __future__ import annotations

import dataclasses
import re

_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Requirement:
    key: str
    op: str  # = | != | exists | absent
    value: str | None = None


def parse(text: str | None) -> list[Requirement]:
    """The requirements of a selector; ValueError naming the bad part."""
    out: list[Requirement] = []
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        if "!=" in part:
            key, value = part.split("!=", 1)
            out.append(Requirement(key=_key(key), op="!=", value=value.strip()))
        elif "=" in part:
            key, value = part.replace("==", "=", 1).split("=", 1)
            out.append(Requirement(key=_key(key), op="=", value=value.strip()))
        elif part.startswith("!"):
            out.append(Requirement(key=_key(part[1:]), op="absent"))
        elif " in " in part or " notin " in part or "(" in part:
            raise ValueError(f"{part!r}: the archive takes =, != and existence selectors only")
        else:
            out.append(Requirement(key=_key(part), op="exists"))
    return out


def _key(text: str) -> str:
    key = text.strip()
    if not _KEY.match(key):
        raise ValueError(f"{key!r} is not a label key")
    return key
