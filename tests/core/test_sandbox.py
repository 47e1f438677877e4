"""sandbox: what a Job template may build is bounded; ordinary templates are untouched."""

from __future__ import annotations

import time

import jinja2.exceptions
import pytest

from conveyor.core import sandbox


def render(text: str) -> str:
    return sandbox.render_text(sandbox.compile_text(text), {"s": "ab\ncd", "n": 3})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{{ 'x' | center(20000000) }}", "wider than 4096", id="center filter"),
        pytest.param("{{ 'x'.center(20000000) }}", "wider than 4096", id="center method"),
        pytest.param("{{ 'x'.ljust(20000000) }}", "wider than 4096", id="ljust"),
        pytest.param("{{ 'x'.rjust(20000000, '-') }}", "wider than 4096", id="rjust"),
        pytest.param("{{ '1'.zfill(20000000) }}", "wider than 4096", id="zfill"),
        pytest.param("{{ '\t'.expandtabs(20000000) }}", "wider than 4096", id="expandtabs"),
        pytest.param("{{ '%20000000s' | format(1) }}", "wider than 4096", id="format filter"),
        pytest.param("{{ '%20000000s' % 1 }}", "wider than 4096", id="percent operator"),
        pytest.param("{{ '%.20000000f' % 1 }}", "wider than 4096", id="percent precision"),
        pytest.param("{{ '%*s' % (20000000, 1) }}", "widths are not allowed", id="percent star"),
        pytest.param("{{ '{:>20000000}'.format(1) }}", "wider than 4096", id="str.format"),
        pytest.param("{{ '{:{w}}'.format(1, w=9) }}", "nested {}", id="str.format nested"),
        pytest.param(
            "{{ ('x' * 1000) | replace('x', 'y' * 99999) }}", "replace is longer", id="replace"
        ),
        pytest.param(
            "{{ ('x' * 99999).replace('x', 'y' * 99999) }}", "replace is longer", id="replace m"
        ),
        pytest.param("{{ s | indent(20000000) }}", "wider than 4096", id="indent"),
        pytest.param("{{ 'a' * 100000000 }}", "too long", id="multiply"),
        pytest.param("{{ 2 ** 100000 }}", "too large", id="power"),
        pytest.param(
            "{% for i in range(20) %}{{ 'x' * 99999 }}{% endfor %}",
            "prints more than 1024 KiB",
            id="output",
        ),
    ],
)
def test_budgets(text: str, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(jinja2.exceptions.SecurityError, match=message):
        render(text)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("{{ 'x' | center(5) }}", "  x  ", id="center"),
        pytest.param("{{ 'a'.ljust(3, '.') }}", "a..", id="ljust"),
        pytest.param("{{ '%-4s|' % 'a' }}", "a   |", id="percent"),
        pytest.param("{{ '%d%%' | format(5) }}", "5%", id="format"),
        pytest.param("{{ '{:>3}'.format(1) }}", "  1", id="str.format"),
        pytest.param("{{ s | indent(2) }}", "ab\n  cd", id="indent"),
        pytest.param("{{ s | replace('\n', ' ') }}", "ab cd", id="replace"),
        pytest.param("{{ 'ab'.replace('a', 'xy') }}", "xyb", id="replace method"),
        pytest.param("{{ n * 'ab' }}", "ababab", id="multiply"),
    ],
)
def test_ordinary_use_is_unchanged(text: str, expected: str) -> None:
    assert render(text) == expected


def test_a_bounded_filter_keeps_its_name_and_context_passing() -> None:
    env = sandbox.environment()
    assert env.filters["replace"].__name__ == "do_replace"
    assert render("{{ 'aaa' | replace('a', 'b', 2) }}") == "bba"
