#!/bin/sh
# The install steps of the container image. The Dockerfile runs this script,
# and so does tests/deploy/test_image.py in a clean directory laid out like
# the image's build context: our machines have no container engine, so the
# test proves the very commands the image build runs.
#
# Usage: hack/image-install.sh VENV SOURCE
#   VENV    where the virtual environment goes (the image copies it as is)
#   SOURCE  the repository checkout (the build context)
set -eu
venv=$1
src=$2

python3 -m venv "$venv"
# The package from the checkout, not from a registry copy of itself; pip
# builds the wheel (with the package data: Job templates) and compiles the
# bytecode, so the read-only image never needs to write any.
# The history extra: the archive (SQLAlchemy, Alembic, psycopg) that the
# chart's archive runs from this image too.
"$venv/bin/python" -m pip install --no-warn-script-location "$src[operator,history]"
# Fail the build, not the first pod, when the entry point is broken.
"$venv/bin/conveyor" --help >/dev/null
"$venv/bin/conveyor" operator --help >/dev/null
"$venv/bin/conveyor" archive --help >/dev/null
