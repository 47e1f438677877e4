"""conveyor-agent <job-type> [--step STEP] [--params FILE] [--output FILE]

Runs one job type's work with the params of the PipelineJob (camelCase JSON,
from FILE or the env var PARAMS) and writes its outputs, one JSON object, to
--output (the termination message by default). Exit codes: 0 done, 1 the
job's check failed (outputs say why), 2 the work could not be done.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from conveyor_agent import errors, outputs, params


class Runtime(Protocol):
    def __call__(self, job_params: Mapping[str, Any], *, environ: Mapping[str, str]) -> Any: ...


# Job type -> module:function that runs it (imported on use: each needs only its own).
RUNTIMES: Mapping[str, str] = {
    "canary-analysis": "conveyor_agent.canary.run:main",
    "deploy": "conveyor_agent.deploy:deploy",
    "promote": "conveyor_agent.deploy:promote",
    "ticket": "conveyor_agent.ticket.run:main",
    "clone-env": "conveyor_agent.clone_env:main",
    "android-deploy": "conveyor_agent.android_deploy:main",
    "build": "conveyor_agent.build_digest:main",
    "android-build": "conveyor_agent.android_build:main",
}

# Earlier steps of a job type, run in its pod's init containers (--step).
STEPS: Mapping[str, Mapping[str, str]] = {
    "android-build": {"checkout": "conveyor_agent.android_build:checkout"},
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="conveyor-agent", description=__doc__.split("\n\n")[1])
    sub = top.add_subparsers(dest="job_type", required=True, metavar="<job-type>")
    for name in RUNTIMES:
        command = sub.add_parser(name, help=f"run a {name} job")
        command.add_argument("--params", metavar="FILE", help="params JSON (default: env PARAMS)")
        command.add_argument(
            "--output", metavar="FILE", default=outputs.DEFAULT_PATH, help="outputs JSON"
        )
        if name in STEPS:
            command.add_argument(
                "--step", choices=sorted(STEPS[name]), help="an init container's step"
            )
    return top


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = parser().parse_args(argv)
    env = os.environ if environ is None else environ
    try:
        job_params = params.load(path=args.params, environ=env)
        step = getattr(args, "step", None)
        target = STEPS[args.job_type][step] if step else RUNTIMES[args.job_type]
        module, _, function = target.partition(":")
        runtime: Runtime = getattr(importlib.import_module(module), function)
        result = runtime(job_params, environ=env)
    except errors.CheckFailed as failed:
        outputs.write(failed.outputs, path=args.output)
        print(f"conveyor-agent: {failed}", file=sys.stderr, flush=True)
        return errors.EXIT_FAILED
    except errors.JobError as exc:
        print(f"conveyor-agent: {args.job_type}: {exc}", file=sys.stderr, flush=True)
        return errors.EXIT_ERROR
    except Exception:
        # A bug or an answer of a shape we did not expect: not a failed check.
        traceback.print_exc()
        return errors.EXIT_ERROR
    outputs.write(result, path=args.output)
    return 0
