"""build: the digest BuildKit's --metadata-file reports becomes the outputs."""

from __future__ import annotations

import json
import pathlib

import pytest

from conveyor_agent import build_digest, cli, errors

DIGEST = "sha256:" + "ab" * 32
# What `buildctl build --output type=image,push=true --metadata-file` writes.
METADATA = {
    "buildx.build.ref": "builder/builder0/x",
    "containerimage.config.digest": "sha256:" + "cd" * 32,
    "containerimage.descriptor": {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": DIGEST,
        "size": 1234,
    },
    "containerimage.digest": DIGEST,
    "image.name": "registry.example/acme/api:1",
}


def test_the_command_writes_digest_and_image(tmp_path: pathlib.Path) -> None:
    (tmp_path / "metadata.json").write_text(json.dumps(METADATA))
    output = tmp_path / "out.json"

    code = cli.main(
        ["build", "--output", str(output)],
        environ={
            "PARAMS": '{"image": "registry.example/acme/api:1"}',
            "BUILD_METADATA": str(tmp_path / "metadata.json"),
        },
    )

    assert code == 0
    assert json.loads(output.read_text()) == {
        "digest": DIGEST,
        "image": "registry.example/acme/api:1",
    }


@pytest.mark.parametrize("content", ["", "{}", '{"containerimage.digest": "latest"}'])
def test_missing_or_bad_metadata_is_an_error(tmp_path: pathlib.Path, content: str) -> None:
    path = tmp_path / "metadata.json"
    if content:
        path.write_text(content)
    with pytest.raises(errors.JobError):
        build_digest.main({"image": "x"}, environ={"BUILD_METADATA": str(path)})
