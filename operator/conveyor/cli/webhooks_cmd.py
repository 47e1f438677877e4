"""`conveyor webhooks`: receive Git webhooks and start what PipelineTriggers say."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from typing import Any

from conveyor.k8s import api, login

EXTRA = "conveyor webhooks needs the operator extra: pip install 'conveyor[operator]'"


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "webhooks",
        help="receive GitHub, GitLab and generic webhooks for PipelineTriggers",
        description="Serve POST /hooks/<namespace>/<trigger>: verify the delivery's "
        "signature with the trigger's Secret, filter it, and create the trigger's "
        "PipelineJob or PipelineRun, once per delivery.",
    )
    parser.add_argument("--address", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8091, help="listen port (default 8091)")
    parser.add_argument(
        "--max-body-size",
        type=int,
        default=None,
        metavar="BYTES",
        help="refuse larger bodies with 413 (default 5 MiB; GitHub sends at most 25 MB)",
    )
    parser.add_argument("--log-format", choices=["plain", "json"], default="plain")
    parser.add_argument(
        "--kubeconfig", metavar="PATH", help="kubeconfig file (default: KUBECONFIG, ~/.kube/config)"
    )
    parser.add_argument(
        "--context", metavar="NAME", help="kubeconfig context (default: its current-context)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from conveyor.webhooks import server
    except ImportError as exc:
        raise SystemExit(f"{EXTRA} ({exc})") from None
    _logging(args.log_format)
    source = login.Source(kubeconfig=args.kubeconfig, context=args.context)
    try:
        source.current()
    except login.LoginError as exc:
        raise SystemExit(f"error: {exc}") from None

    async def main() -> None:
        async with api.Client(login=source, user_agent=server.USER_AGENT) as client:
            await server.serve(
                client=client,
                address=args.address,
                port=args.port,
                max_body=args.max_body_size or server.DEFAULT_MAX_BODY,
            )

    asyncio.run(main())
    return 0


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": self.formatTime(record),
                "level": record.levelname,
                "message": record.getMessage(),
            }
        )


def _logging(form: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        _Json() if form == "json" else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    logging.basicConfig(level=logging.INFO, handlers=[handler])
