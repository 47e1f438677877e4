"""images.reference: what --agent-image accepts (the chart's repository:tag or
repository@digest), refused with an example before the operator starts."""

from __future__ import annotations

import pytest

from conveyor.core import images

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "text",
    [
        images.DEFAULT_AGENT,
        "conveyor-agent",
        "registry.example/platform/conveyor-agent:0.2.0",
        f"registry.example/platform/conveyor-agent@{DIGEST}",
        f"registry.example:5000/conveyor-agent:0.2.0@{DIGEST}",
        "localhost:5000/conveyor_agent:v1.2.3-rc.1",
        "ghcr.io/acme/conveyor-agent:sha-1a2b3c",
    ],
)
def test_image_references_are_taken(text: str) -> None:
    assert images.reference(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Conveyor-Agent:0.1.0",  # repositories are lower case
        "conveyor-agent:",
        "conveyor-agent@sha256:abc",  # not a whole digest
        "conveyor-agent:0.1.0 --privileged",
        "registry.example/conveyor-agent:0.1.0\n",
        "-registry.example/x",
        "registry.example//x",
        "x:" + "1" * 129,
    ],
)
def test_other_text_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="is not an image reference such as"):
        images.reference(text)
