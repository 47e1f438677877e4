#!/bin/sh
# The install steps of the agent image. agent/Dockerfile runs this script, and
# so does tests/agent/test_image.py in a clean directory laid out like the
# build context: there is no container engine on our machines, so the test
# proves the very commands the image build runs.
#
# Usage: image-install.sh VENV SOURCE
set -eu
venv=$1
src=$2

python3 -m venv "$venv"
# From the checkout; pip compiles the bytecode, so the read-only image never writes any.
"$venv/bin/python" -m pip install --no-warn-script-location "$src"
# Fail the build, not the first pod, when the entry point is broken.
"$venv/bin/conveyor-agent" --help >/dev/null
"$venv/bin/conveyor-agent" canary-analysis --help >/dev/null
