"""`conveyor operator`: run the operator in the foreground (what the image runs)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pathlib
import sys
from typing import TYPE_CHECKING, Any

from conveyor.core import durations, images
from conveyor.k8s import login

if TYPE_CHECKING:  # the operator extra, imported by run()
    from conveyor.k8s import controller

EXTRA = "conveyor operator needs the operator extra: pip install 'conveyor[operator]'"


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "operator", help="run the operator against the current kubeconfig or service account"
    )
    parser.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=[],
        help="watch only this namespace (repeatable); default: all namespaces",
    )
    parser.add_argument(
        "--liveness",
        default=None,
        metavar="URL",
        help="serve health probes, e.g. http://0.0.0.0:8080/healthz",
    )
    parser.add_argument(
        "--metrics-port", type=int, default=8080, help="Prometheus /metrics port (0: off)"
    )
    parser.add_argument(
        "--unschedulable-grace",
        default="2m",
        metavar="DURATION",
        help="how long a pod may stay unschedulable before its Worker is unhealthy (default 2m)",
    )
    parser.add_argument(
        "--agent-image",
        default=None,
        metavar="IMAGE",
        help="image of the built-in job types' agent containers, e.g. "
        "registry.example/conveyor-agent@sha256:<digest> "
        f"(default: env CONVEYOR_AGENT_IMAGE, else {images.DEFAULT_AGENT})",
    )
    parser.add_argument(
        "--leader-elect",
        action="store_true",
        help="with more than one replica: only the holder of a Lease acts",
    )
    parser.add_argument(
        "--leader-elect-namespace",
        default=None,
        help="namespace of the Lease (default: the pod's, from its service account)",
    )
    parser.add_argument("--leader-elect-name", default="conveyor-operator", help="the Lease's name")
    parser.add_argument("--log-format", choices=["plain", "json"], default="plain")
    parser.add_argument(
        "--kubeconfig", metavar="PATH", help="kubeconfig file (default: KUBECONFIG, ~/.kube/config)"
    )
    parser.add_argument(
        "--context", metavar="NAME", help="kubeconfig context (default: its current-context)"
    )
    # Tests only (see Settings.time_scale); hidden from --help.
    parser.add_argument("--time-scale", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--clock-anchor", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # One source of credentials for kopf's login and the operator's client,
    # loaded in a child process that runs beside the imports below.
    source = login.Source(kubeconfig=args.kubeconfig, context=args.context, isolated=True)
    source.prefetch()
    keep_out_the_kubernetes_package()
    try:
        import kopf

        from conveyor import metrics
        from conveyor.k8s import leader
    except ImportError as exc:
        raise SystemExit(f"{EXTRA} ({exc})") from None
    kopf.configure(
        verbose=args.verbose,
        log_format=kopf.LogFormat.JSON if args.log_format == "json" else kopf.LogFormat.PLAIN,
    )
    if not args.verbose:
        # kopf logs every handler call at INFO ("Handler ... succeeded"): one
        # line per watch event, most of the operator's log. Our decisions are
        # logged by conveyor.controller.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    if args.metrics_port:
        metrics.serve(port=args.metrics_port)
    # Importing registers the handlers with kopf's default registry.
    from conveyor.handlers import login as _login  # noqa: F401
    from conveyor.handlers import memories
    from conveyor.handlers import operator as _handlers  # noqa: F401

    namespaces = tuple(args.namespace)
    settings = _settings(args, namespaces=namespaces)
    try:
        source.current()
    except login.LoginError as exc:
        raise SystemExit(f"error: {exc}") from None
    memo = kopf.Memo(settings=settings, login=source)
    if args.leader_elect:
        memo["leader_election"] = leader.Config(
            namespace=args.leader_elect_namespace or _own_namespace(),
            name=args.leader_elect_name,
        )
    asyncio.run(
        kopf.operator(
            clusterwide=not namespaces,
            namespaces=namespaces,
            standalone=True,
            liveness_endpoint=args.liveness,
            memo=memo,
            memories=memories.Ephemeral(),  # kopf keeps nothing per object
        )
    )
    return 0


def _settings(args: argparse.Namespace, *, namespaces: tuple[str, ...]) -> controller.Settings:
    from conveyor.k8s import controller

    try:
        grace = durations.parse(args.unschedulable_grace)
    except ValueError as exc:
        raise SystemExit(f"--unschedulable-grace: {exc}") from None
    return controller.Settings(
        namespaces=namespaces,
        time_scale=args.time_scale,
        clock_anchor=args.clock_anchor,
        unschedulable_grace=grace,
        agent_image=agent_image(args),
    )


def keep_out_the_kubernetes_package() -> None:
    """kopf imports the kubernetes package whenever it is installed (for a
    login this operator does not use): about 20 MiB and 0.3 CPU-s of a cold
    start. A None entry makes that import fail, as if it were not installed."""
    if "kubernetes" not in sys.modules:
        sys.modules["kubernetes"] = None  # type: ignore[assignment]


def agent_image(args: argparse.Namespace) -> str:
    """--agent-image, else env CONVEYOR_AGENT_IMAGE, else the default; checked."""
    image = args.agent_image or os.environ.get("CONVEYOR_AGENT_IMAGE") or images.DEFAULT_AGENT
    try:
        return images.reference(image)
    except ValueError as exc:
        raise SystemExit(f"--agent-image: {exc}") from None


def _own_namespace() -> str:
    path = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    return path.read_text().strip() if path.exists() else "default"
