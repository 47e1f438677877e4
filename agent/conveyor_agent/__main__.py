"""python -m conveyor_agent: the same as the conveyor-agent console script."""

import sys

from conveyor_agent import cli

sys.exit(cli.main())
