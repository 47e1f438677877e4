"""kubectl's JSONPath templates (`-o jsonpath=`, `custom-columns=`,
`--sort-by`): literal text, `{expression}`, `{"\\n"}`, `{range ...}{end}`.

The expressions themselves are evaluated by jsonpath-ng (its extended
parser, for `[?(@.status.state=="SUCCESS")]` filters); this module is only
the template around them, as kubectl writes it. Missing fields print
nothing, as with `kubectl get` (it allows missing keys).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from jsonpath_ng import exceptions as jsonpath_errors
from jsonpath_ng import ext as jsonpath_ext


class TemplateError(ValueError):
    """A template that does not parse; the message says where."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Text:
    text: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Expr:
    source: str
    compiled: Any


@dataclasses.dataclass(frozen=True, kw_only=True)
class Range:
    over: Expr
    body: tuple[Node, ...]


Node = Text | Expr | Range


@dataclasses.dataclass(frozen=True, kw_only=True)
class Template:
    source: str
    nodes: tuple[Node, ...]

    def render(self, data: Any) -> str:
        return "".join(_render(self.nodes, root=data, current=data))


def expression(source: str) -> Expr:
    """One expression, relative to the current object: `.a.b`, `a.b`, `$.a`, `@`."""
    text = source.strip()
    if text.startswith("@"):
        text = "$" + text[1:]
    elif not text.startswith("$"):
        text = "$" + (text if text.startswith((".", "[")) else "." + text)
    if text == "$.":
        text = "$"
    try:
        return Expr(source=source, compiled=jsonpath_ext.parse(text))
    except (jsonpath_errors.JsonPathParserError, jsonpath_errors.JsonPathLexerError) as exc:
        raise TemplateError(f"bad expression {source!r}: {exc}") from None
    except Exception as exc:  # jsonpath-ng raises plain Exceptions for some inputs
        raise TemplateError(f"bad expression {source!r}: {exc}") from None


def parse(source: str) -> Template:
    """A template; a bare expression (`.metadata.name`) is taken as `{...}`."""
    text = source if "{" in source else "{" + source + "}"
    nodes, _ = _parse_nodes(_tokens(text), 0, inside_range=False)
    return Template(source=source, nodes=tuple(nodes))


def values(expr: Expr, data: Any) -> list[Any]:
    """What an expression finds in `data` (none when missing)."""
    return [match.value for match in expr.compiled.find(data)]


def show(value: Any) -> str:
    """A found value as kubectl prints it: strings bare, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _tokens(text: str) -> list[tuple[str, str]]:
    """("text", literal) and ("action", inside braces), in order."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        start = text.find("{", i)
        if start < 0:
            out.append(("text", text[i:]))
            break
        if start > i:
            out.append(("text", text[i:start]))
        end = _closing(text, start)
        out.append(("action", text[start + 1 : end].strip()))
        i = end + 1
    return out


def _closing(text: str, start: int) -> int:
    """The index of the `}` closing the `{` at `start` (quotes respected)."""
    quote = ""
    i = start + 1
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "}":
            return i
        i += 1
    raise TemplateError(f"unclosed {{ at position {start} in {text!r}")


def _parse_nodes(
    tokens: Sequence[tuple[str, str]], start: int, *, inside_range: bool
) -> tuple[list[Node], int]:
    """Nodes from tokens[start:] up to the matching {end}; and where it stopped."""
    nodes: list[Node] = []
    i = start
    while i < len(tokens):
        kind, value = tokens[i]
        i += 1
        if kind == "text":
            nodes.append(Text(text=value))
        elif value == "end":
            if not inside_range:
                raise TemplateError("{end} without {range}")
            return nodes, i
        elif value == "range" or value.startswith("range "):
            body, i = _parse_nodes(tokens, i, inside_range=True)
            nodes.append(Range(over=expression(value[len("range") :]), body=tuple(body)))
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            nodes.append(Text(text=_literal(value)))
        else:
            nodes.append(expression(value))
    if inside_range:
        raise TemplateError("{range} without {end}")
    return nodes, i


def _literal(quoted: str) -> str:
    try:
        text: str = json.JSONDecoder(strict=False).decode(quoted)
    except ValueError:
        raise TemplateError(f"bad string {quoted}") from None
    return text


def _render(nodes: Sequence[Node], *, root: Any, current: Any) -> list[str]:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, Text):
            out.append(node.text)
        elif isinstance(node, Expr):
            base = root if node.source.strip().startswith("$") else current
            out.append(" ".join(show(v) for v in values(node, base)))
        else:
            base = root if node.over.source.strip().startswith("$") else current
            for item in _range_items(node.over, base):
                out += _render(node.body, root=root, current=item)
    return out


def _range_items(expr: Expr, data: Any) -> list[Any]:
    found = values(expr, data)
    # `{range .items}` ranges over the list itself, as `{range .items[*]}` does.
    if len(found) == 1 and isinstance(found[0], list):
        return list(found[0])
    return found
