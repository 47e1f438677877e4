"""`when` expressions and `{{ }}` templates of a pipeline, in the Job templates' sandbox.

Pure: no I/O. Everything runs in `sandbox.environment()` (Jinja2, immutable
sandbox, strict undefined, output budgets), so a limit added there holds here too.

- A `when` is a Jinja2 expression without braces (`steps.test.state ==
  'SUCCESS'`); `{{ ... }}` around it is accepted as well.
- A string in a step's `job` or `forEach` is a template. A string that is one
  `{{ expression }}` and nothing else renders to the expression's value itself
  (a list stays a list, a number a number); any other string renders to text.
- Compile errors are found up front (`check`, an InvalidSpec of the run); a
  failure while rendering raises ExpressionError naming the field, which fails
  the step, never the controller.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jinja2

from conveyor.core import sandbox

# One whole-string expression: `{{ x }}` with no other braces around or inside.
_WHOLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}|\{%|%\}).)*)\}\}\s*$", re.DOTALL)
_MARKERS = ("{{", "{%", "{#")
# A rendered job (or forEach list) larger than this fails its step: the child's
# spec must stay well below the API server's object limit.
MAX_RENDERED_BYTES = 256 * 1024


# The three ties to the Job templates' sandbox (core/sandbox), so its budgets hold here.
def _sandbox() -> jinja2.Environment:
    return sandbox.environment()


def _print(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    return sandbox.render_text(template, context)


_REFUSED = sandbox.Refused  # raised by refuse(field, message) in a template


class ExpressionError(Exception):
    """A template or expression failed; `field` names where, as a user reads it."""

    def __init__(self, *, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def is_template(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)


@functools.lru_cache(maxsize=4096)
def _expression(source: str) -> Callable[..., Any]:
    return _sandbox().compile_expression(source, undefined_to_none=False)


@functools.lru_cache(maxsize=4096)
def _template(text: str) -> jinja2.Template:
    return _sandbox().from_string(text)


def _when_source(text: str) -> str:
    whole = _WHOLE.match(text)
    return whole["expr"] if whole else text


def check_when(*, text: str, field: str) -> None:
    """Raises ExpressionError if `text` is not a valid expression."""
    _compiled(field=field, compile=lambda: _expression(_when_source(text)))


def check_template(*, text: str, field: str) -> None:
    """Raises ExpressionError if the template string `text` does not compile."""
    whole = _WHOLE.match(text)
    if whole:
        _compiled(field=field, compile=lambda: _expression(whole["expr"]))
    elif is_template(text):
        _compiled(field=field, compile=lambda: _template(text))


def check_value(*, value: Any, field: str) -> None:
    """Every template string inside `value` (dicts, lists) compiles."""
    for text, where in _strings(value, field=field):
        check_template(text=text, field=where)


def _compiled(*, field: str, compile: Callable[[], object]) -> None:
    try:
        compile()
    except jinja2.TemplateSyntaxError as exc:
        raise ExpressionError(field=field, message=f"does not compile: {exc.message}") from None


def _strings(value: Any, *, field: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield value, field
    elif isinstance(value, Mapping):
        for key, child in value.items():
            yield from _strings(child, field=f"{field}.{key}")
    elif isinstance(value, list | tuple):
        for i, child in enumerate(value):
            yield from _strings(child, field=f"{field}[{i}]")


def evaluate_when(*, text: str, context: Mapping[str, Any], field: str) -> bool:
    """The truth of a `when` expression."""
    value = _run(field=field, call=lambda: _expression(_when_source(text))(**context))
    return bool(value)


def render_value(*, value: Any, context: Mapping[str, Any], field: str) -> Any:
    """`value` with every template string rendered; JSON-compatible, size-bounded."""
    out = _render(value, context=context, field=field)
    size = len(json.dumps(out, separators=(",", ":")))
    if size > MAX_RENDERED_BYTES:
        raise ExpressionError(
            field=field, message=f"renders to {size} bytes, more than {MAX_RENDERED_BYTES}"
        )
    return out


def _render(value: Any, *, context: Mapping[str, Any], field: str) -> Any:
    if isinstance(value, str):
        return _render_string(value, context=context, field=field)
    if isinstance(value, Mapping):
        return {k: _render(v, context=context, field=f"{field}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_render(v, context=context, field=f"{field}[{i}]") for i, v in enumerate(value)]
    return value


def _render_string(text: str, *, context: Mapping[str, Any], field: str) -> Any:
    whole = _WHOLE.match(text)
    if whole:
        expr = _expression(whole["expr"])
        return _plain(_run(field=field, call=lambda: expr(**context)), field=field)
    if not is_template(text):
        return text
    template = _template(text)
    rendered: str = _run(field=field, call=lambda: _print(template, context))
    return rendered


def _run(*, field: str, call: Callable[[], Any]) -> Any:
    try:
        value = call()
        if isinstance(value, jinja2.Undefined):
            value._fail_with_undefined_error()
        return value
    except ExpressionError:
        raise
    # A user's template may raise anything (undefined, sandbox, type, zero division).
    except Exception as exc:
        raise ExpressionError(field=field, message=_describe(exc)) from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _REFUSED):
        return exc.message
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: {text}"


def _plain(value: Any, *, field: str) -> Any:
    """The value as JSON has it (tuples become lists); anything else is an error."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise ExpressionError(
            field=field, message=f"renders to a value that is not JSON: {exc}"
        ) from None
