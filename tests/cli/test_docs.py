"""docs/cli.md is the CLI's own --help: regenerate it with hack/cli_docs.py."""

from __future__ import annotations

import pathlib
import runpy

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_docs_cli_md_is_the_current_help() -> None:
    generator = runpy.run_path(str(ROOT / "hack" / "cli_docs.py"))

    expected = generator["render"]()

    assert (ROOT / "docs" / "cli.md").read_text() == expected, (
        "docs/cli.md is out of date: run python hack/cli_docs.py"
    )
