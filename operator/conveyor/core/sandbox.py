"""The Jinja2 sandbox Job templates render in, with budgets on what they build.

Pure apart from reading the packaged templates. A Worker's jobTemplate is
written by a Worker author, and its output embeds a PipelineJob author's
params: neither may make the operator build a huge value. Inside the sandbox:
`*`, `**` and `%` are bounded, and so are the filters and string methods that
take a width or a count (center, ljust, rjust, zfill, indent, format,
replace, ...); `render_text` stops a template printing more than MAX_OUTPUT.
What remains (CPU in nested loops, `~` doubling a string) is bounded by time
and memory where the shell runs the renderer: k8s/rendering.py.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
import re
import string
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import jinja2
import jinja2.exceptions
import jinja2.filters
import jinja2.runtime
import jinja2.sandbox
import yaml

# Bounds on what `*` and `**` may build, so a template cannot exhaust memory.
_MAX_SEQUENCE = 100_000
_MAX_POWER_BITS = 4096
# The widest padding or indent a template may ask for, and the longest string
# a bounded filter or method may return; a Job manifest is far smaller.
MAX_WIDTH = 4096
MAX_STRING = 1_048_576
# The most a template may print: a Job must fit etcd's 1.5 MiB object limit.
MAX_OUTPUT = 1_048_576
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_-]+\.yaml\.j2$")
# printf-style conversions: `%-99999s`, `%.*f`; widths come after flags.
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


class Budget(jinja2.exceptions.SecurityError):
    """A template asked for more than a budget allows."""


def render_text(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """The template's output, stopped as soon as it passes MAX_OUTPUT."""
    size = 0
    parts: list[str] = []
    for chunk in template.generate(context):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise Budget(f"the template prints more than {MAX_OUTPUT // 1024} KiB")
        parts.append(chunk)
    return "".join(parts)


class Refused(Exception):
    """Raised by `refuse(field, message)` in a template: the params cannot be served."""

    def __init__(self, *, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _refuse(field: str, message: str) -> NoReturn:
    raise Refused(field=str(field), message=str(message))


def load_yaml(text: str) -> Any:
    """Plain data only (a SafeLoader). An alias needs a `*`: without one,
    libyaml's loader is safe as well and ten times faster."""
    if "*" not in text and _C_LOADER is not None:
        return yaml.load(text, Loader=_C_LOADER)
    return yaml.load(text, Loader=_Loader)


_C_LOADER: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)


class _Loader(yaml.SafeLoader):
    """SafeLoader without aliases: a few bytes of anchors can expand to gigabytes."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not allowed")
        return super().compose_node(parent, index)


class _Environment(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """The sandbox, with budgets: a template may be written by any Worker author."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > _MAX_SEQUENCE
                ):
                    raise Budget("the result of * is too long")
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and right * math.log2(abs(left)) > _MAX_POWER_BITS
        ):
            raise Budget("the result of ** is too large")
        if operator == "%" and isinstance(left, str):
            _check_percent(left)
        return super().call_binop(context, operator, left, right)

    def call(
        __self,
        __context: jinja2.runtime.Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        owner = getattr(__obj, "__self__", None)
        check = _STR_METHODS.get(getattr(__obj, "__name__", ""))
        if isinstance(owner, str) and check is not None:
            check(owner, *args, **kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # Jinja replaces str.format and format_map by a sandboxed wrapper before `call`.
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        _check_format(value.__self__)
        return wrapped


def _load_packaged(name: str) -> tuple[str, str, Callable[[], bool]]:
    # Only plain names: includes and imports must not reach outside templates/.
    if not _TEMPLATE_NAME.match(name):
        raise jinja2.TemplateNotFound(name)
    path = importlib.resources.files("conveyor.core").joinpath("templates", name)
    if not path.is_file():
        raise jinja2.TemplateNotFound(name)
    # The name as filename puts it in tracebacks; packaged templates never change.
    return path.read_text(encoding="utf-8"), name, lambda: True


@functools.cache
def environment() -> _Environment:
    """One environment: it caches the compiled default templates."""
    env = _Environment(
        loader=jinja2.FunctionLoader(_load_packaged),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        # Block tags on their own line leave no trace: YAML indentation stays as written.
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    for name, check in _FILTER_CHECKS.items():
        env.filters[name] = _bounded_filter(name, check)
    env.filters["toyaml"] = to_yaml
    env.filters["tojson"] = to_json
    env.globals["refuse"] = _refuse
    return env


@functools.lru_cache(maxsize=64)
def compile_text(text: str) -> jinja2.Template:
    """A Worker's jobTemplate, compiled once per distinct text."""
    return environment().from_string(text)


# -- filters --------------------------------------------------------------------


def to_yaml(value: Any) -> str:
    """`value` as a one-line YAML flow value that parses back to exactly `value`.

    JSON is nearly YAML; the differences handled here: characters outside the
    Basic Multilingual Plane (JSON's surrogate pairs are not YAML) and floats
    in exponent form without a dot (YAML 1.1 would read "1e+20" as a string).
    """
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    if value is None or isinstance(value, bool | int | str):
        return _SURROGATES.sub(_unpair, json.dumps(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be written to a manifest")
        text = repr(value)
        if "e" in text and "." not in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, Mapping):
        items = (f"{to_yaml(str(k))}: {to_yaml(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(to_yaml(v) for v in value) + "]"
    raise TypeError(f"a {type(value).__name__} cannot be written to a manifest")


def to_json(value: Any) -> str:
    """`value` as compact JSON text (a string; print it with `toyaml`)."""
    return json.dumps(
        value, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    raise TypeError(f"a {type(value).__name__} cannot be written as JSON")


# An escaped backslash, or a surrogate pair; matching `\\` first keeps `\\ud83d` literal.
_SURROGATES = re.compile(r"\\\\|\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})")


def _unpair(match: re.Match[str]) -> str:
    if match.group(1) is None:
        return match.group(0)
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"


def _width(value: Any, what: str) -> None:
    if isinstance(value, int) and value > MAX_WIDTH:
        raise Budget(f"{what} {value} is wider than {MAX_WIDTH}")


def _check_percent(text: str) -> None:
    for match in _PERCENT.finditer(text):
        for part in match.groups():
            if part == "*":
                raise Budget("'%*' widths are not allowed; write the width in the format")
            if part is not None:
                _width(int(part), "the width")


def _check_format(text: str) -> None:
    """str.format: no width beyond MAX_WIDTH, no width taken from an argument."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return  # str.format raises the same error itself
    for _, _, spec, _ in fields:
        if spec and "{" in spec:
            raise Budget("nested {} in a format spec are not allowed")
        for digits in re.findall(r"\d+", spec or ""):
            _width(int(digits), "the width")


def _check_replace(text: str, old: Any, new: Any, count: Any = -1) -> None:
    if isinstance(old, str) and isinstance(new, str):
        times = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            times = min(times, count)
        if len(text) + times * len(new) > MAX_STRING:
            raise Budget(f"the result of replace is longer than {MAX_STRING} characters")


# str methods that can make a long string from a short one, and their check.
_STR_METHODS: Mapping[str, Callable[..., None]] = {
    "center": lambda s, width=0, *_: _width(width, "the width"),
    "ljust": lambda s, width=0, *_: _width(width, "the width"),
    "rjust": lambda s, width=0, *_: _width(width, "the width"),
    "zfill": lambda s, width=0, *_: _width(width, "the width"),
    "expandtabs": lambda s, tabsize=8, *_: _width(tabsize, "the tab size"),
    "replace": _check_replace,
}


def _bounded_filter(name: str, check: Callable[..., None]) -> Callable[..., Any]:
    default = jinja2.filters.FILTERS[name]

    @functools.wraps(default)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        check(*args, **kwargs)
        return default(*args, **kwargs)

    return bounded


def _check_indent(value: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    if isinstance(width, str):
        width = len(width)
    _width(width, "the indent")
    if isinstance(width, int) and len(str(value)) + str(value).count("\n") * width > MAX_STRING:
        raise Budget(f"the result of indent is longer than {MAX_STRING} characters")


# Filters taking the filter's value first, then the arguments a template gives.
_FILTER_CHECKS: Mapping[str, Callable[..., None]] = {
    "center": lambda value, width=80, *_: _width(width, "the width"),
    "indent": _check_indent,
    "format": lambda value, *_, **__: _check_percent(str(value)),
    "replace": lambda ctx, s, old, new, count=None: _check_replace(
        str(s), old, new, -1 if count is None else count
    ),
}
