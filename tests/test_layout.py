"""The layout rules of operator/conveyor: small modules named by what they do
(no module over 400 lines, templates aside) and no function over 60 lines."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "operator" / "conveyor"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> list[pathlib.Path]:
    return sorted(ROOT.rglob("*.py"))


def _name(path: pathlib.Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _functions(tree: ast.AST) -> list[tuple[str, int]]:
    """(name, lines from its first decorator to its last line) of every function."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            out.append((node.name, (node.end_lineno or node.lineno) - start + 1))
    return out


def test_the_walk_finds_the_package() -> None:
    names = {_name(p) for p in _modules()}
    assert {"core/model.py", "k8s/api.py", "cli/main.py"} <= names


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_no_module_is_over_400_lines(path: pathlib.Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_name(path)} has {lines} lines: split it by concern"


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_no_function_is_over_60_lines(path: pathlib.Path) -> None:
    long = [
        f"{name} ({lines} lines)"
        for name, lines in _functions(ast.parse(path.read_text()))
        if lines > MAX_FUNCTION_LINES
    ]
    assert not long, f"{_name(path)}: {', '.join(long)}"
