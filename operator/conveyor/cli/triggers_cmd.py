"""`conveyor triggers`: PipelineTriggers with their last delivery;
`conveyor trigger test NAME --payload FILE`: send a signed test delivery."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import pathlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from conveyor.cli import context, errors, fetch, formats, listing, output
from conveyor.core import model
from conveyor.presentation import humanize
from conveyor.triggers import signatures
from conveyor.webhooks import cluster

HEADERS = (
    "NAME",
    "SOURCE",
    "CREATES",
    "POLICY",
    "ACCEPTED",
    "FILTERED",
    "REFUSED",
    "LAST",
    "RESULT",
)
WIDE = ("REASON", "MESSAGE")
DEFAULT_URL = "http://127.0.0.1:8091"


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "triggers", help="PipelineTriggers: what they create, their counts and last delivery"
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="only these PipelineTriggers")
    context.add_options(parser, all_namespaces=True, formats_allowed=formats.LISTING, listing=True)
    parser.set_defaults(
        run=lambda args: context.run(args, lambda ctx: _triggers(ctx, names=args.names))
    )
    trigger: argparse.ArgumentParser = commands.add_parser(
        "trigger", help="act on one PipelineTrigger (trigger test)"
    )
    actions = trigger.add_subparsers(dest="action", required=True, metavar="ACTION")
    test: argparse.ArgumentParser = actions.add_parser(
        "test",
        help="send a delivery signed with the trigger's Secret to the receiver",
        description="Read the trigger and its Secret (you need get on that Secret), sign "
        "FILE's bytes as the trigger's forge does, POST them to the receiver's "
        "/hooks/<namespace>/<name>, and print its answer. Exit code 0 on a 2xx answer.",
    )
    test.add_argument("name", metavar="NAME", help="the PipelineTrigger")
    test.add_argument(
        "--payload", required=True, type=pathlib.Path, metavar="FILE", help="JSON body"
    )
    test.add_argument("--event", help="event type header (default: push; GitLab: Push Hook)")
    test.add_argument(
        "--delivery", help="delivery id (default: a new one; repeat one to redeliver)"
    )
    test.add_argument("--url", default=DEFAULT_URL, help=f"the receiver (default {DEFAULT_URL})")
    context.add_options(test)
    test.set_defaults(run=lambda args: context.run(args, lambda ctx: _test(ctx, args=args)))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Row:
    namespace: str
    name: str
    source: str
    creates: str
    policy: str
    accepted: int
    filtered: int
    refused: int
    last: str
    result: str
    reason: str
    message: str

    def cells(self, *, all_namespaces: bool, wide: bool = False) -> list[str]:
        cells = [
            self.name,
            self.source,
            self.creates,
            self.policy,
            str(self.accepted),
            str(self.filtered),
            str(self.refused),
            self.last,
            self.result,
        ]
        if wide:
            cells += [self.reason or "-", self.message or "-"]
        return [self.namespace, *cells] if all_namespaces else cells

    def to_dict(self) -> dict[str, Any]:
        return output.record(self)


def row(body: Mapping[str, Any], *, now: datetime.datetime) -> Row:
    spec = body.get("spec") or {}
    status = body.get("status") or {}
    last = status.get("lastDelivery") or {}
    md = body.get("metadata") or {}
    at = model.parse_time(last.get("time"))
    return Row(
        namespace=str(md.get("namespace") or ""),
        name=str(md.get("name") or ""),
        source=str(spec.get("source") or "-"),
        creates="PipelineRun" if "pipelineRunTemplate" in spec else "PipelineJob",
        policy=str(spec.get("concurrencyPolicy") or "Allow"),
        accepted=int(status.get("accepted") or 0),
        filtered=int(status.get("filtered") or 0),
        refused=int(status.get("refused") or 0),
        last=humanize.age(at, now=now) if at else "never",
        result=str(last.get("result") or "-"),
        reason=str(last.get("reason") or ""),
        message=str(last.get("message") or ""),
    )


async def _triggers(ctx: context.Context, *, names: Sequence[str]) -> int:
    everything = await fetch.items(ctx.client, cluster.PIPELINETRIGGERS, namespace=ctx.scope)
    objects, missing = await listing.chosen(
        ctx, cluster.PIPELINETRIGGERS, everything=everything, names=names
    )
    if not ctx.output.table:
        listing.print_objects(ctx, objects, single=len(names) == 1)
        return listing.report_missing(ctx, kind="pipelinetrigger", missing=missing)
    if objects:
        wide = ctx.output.kind == "wide"
        heads = [*HEADERS, *WIDE] if wide else list(HEADERS)
        heads = ["NAMESPACE", *heads] if ctx.all_namespaces else heads
        rows = [
            row(o, now=ctx.now()).cells(all_namespaces=ctx.all_namespaces, wide=wide)
            for o in objects
        ]
        listing.print_table(ctx, headers=heads, rows=rows, painter=None)
    elif not names:
        listing.nothing(ctx, what="PipelineTriggers")
    return listing.report_missing(ctx, kind="pipelinetrigger", missing=missing)


def test_headers(
    *, spec: Mapping[str, Any], secret: bytes, body: bytes, event: str | None, delivery: str
) -> dict[str, str]:
    """The headers the trigger's forge would send with `body`."""
    source = signatures.Source(spec.get("source") or "generic")
    generic = spec.get("generic") or {}
    signature_header = generic.get("signatureHeader") or signatures.GENERIC_HEADER
    headers = {"Content-Type": "application/json", "User-Agent": "conveyor-trigger-test"}
    if source is signatures.Source.GITHUB:
        headers |= {"X-GitHub-Event": event or "push", "X-GitHub-Delivery": delivery}
    elif source is signatures.Source.GITLAB:
        headers |= {"X-Gitlab-Event": event or "Push Hook", "X-Gitlab-Event-UUID": delivery}
    elif event:
        headers[generic.get("eventHeader") or "X-Event"] = event
    return headers | signatures.sign(
        source=source, secret=secret, body=body, generic_header=signature_header
    )


async def _test(ctx: context.Context, *, args: argparse.Namespace) -> int:
    ns, name = ctx.namespace, args.name
    try:
        body = args.payload.read_bytes()
    except OSError as exc:
        raise errors.CliError(f"--payload: {exc}") from None
    where = cluster.Cluster(client=ctx.client)
    trigger = await where.trigger(namespace=ns, name=name)
    if trigger is None:
        raise errors.not_found(kind="pipelinetrigger", name=name, namespace=ns)
    spec = trigger.get("spec") or {}
    ref = spec.get("secretRef") or {}
    secret = await where.secret_value(
        namespace=ns, name=ref.get("name", ""), key=ref.get("key", "")
    )
    if secret is None:
        raise errors.CliError(
            f"cannot read key {ref.get('key')} of Secret {ref.get('name')} in {ns}"
        )
    delivery = args.delivery or f"test-{uuid.uuid4()}"
    headers = test_headers(spec=spec, secret=secret, body=body, event=args.event, delivery=delivery)
    url = f"{args.url.rstrip('/')}/hooks/{ns}/{name}"
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            text = await response.text()
            status = response.status
    except aiohttp.ClientError as exc:
        raise errors.CliError(f"cannot reach the receiver at {url}: {exc}") from None
    print(f"delivery {delivery}: {status}")
    try:
        print(json.dumps(json.loads(text), indent=2))
    except ValueError:
        print(text[:2000])
    return 0 if 200 <= status < 300 else 1
