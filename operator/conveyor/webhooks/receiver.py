"""One delivery, from request to answer (the decisions are conveyor.triggers').

1. find the trigger (404) and judge its spec (422 InvalidSpec);
2. refuse a body over the size limit (413) before reading it;
3. verify the signature or token with the trigger's Secret (401), in constant time;
4. decode the payload, refusing one nested too deep (400);
5. filter: events, branches, tags, paths, `when` (200, Filtered);
6. under a lock per trigger and group: refuse a replayed body (409), apply
   the concurrency policy (200, Skipped), create the object named from the
   delivery id (201; AlreadyExists: 200 with the existing object's name);
7. Replace: revoke the earlier unfinished runs of the group.

Every answer comes within `budget` seconds (GitHub waits 10), is counted in
the trigger's status, and is logged in one line without payload or secret.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import datetime
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from conveyor.core import model
from conveyor.core.pipeline import expressions
from conveyor.k8s import api
from conveyor.triggers import deliveries, filters, objects, payload, policy, signatures, spec, tally
from conveyor.webhooks import cache, cluster, tallies

log = logging.getLogger("conveyor.webhooks")
Count = tally.Count


@dataclasses.dataclass(frozen=True, kw_only=True)
class Request:
    """What the receiver needs of an HTTP request (server.py adapts aiohttp's)."""

    headers: Mapping[str, str]
    content_type: str
    content_length: int | None
    read: Callable[[], Awaitable[bytes]]  # raises TooLarge past the limit


class TooLarge(Exception):
    pass


@dataclasses.dataclass(frozen=True, kw_only=True)
class Answer:
    status: int
    result: str
    reason: str
    message: str
    kind: str = ""
    object: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "result": self.result,
            "reason": self.reason,
            "message": self.message,
        }
        if self.object:
            out["object"] = {"kind": self.kind, "name": self.object}
        return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Trigger:
    meta: model.Meta
    spec: spec.TriggerSpec


class Receiver:
    def __init__(
        self,
        *,
        cluster: cluster.Cluster,
        tallies: tallies.Tallies,
        clock: Callable[[], datetime.datetime],
        max_body: int,
        budget: float = 8.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cluster = cluster
        self._tallies = tallies
        self._clock = clock
        self._max_body = max_body
        self._budget = budget
        self._locks: dict[tuple[str, ...], asyncio.Lock] = {}
        self._waiting: collections.Counter[tuple[str, ...]] = collections.Counter()
        self._triggers: cache.Cache[dict[str, Any] | None] = cache.Cache(clock=monotonic)
        self._secrets: cache.Cache[bytes | None] = cache.Cache(clock=monotonic)

    async def deliver(self, *, namespace: str, name: str, request: Request) -> Answer:
        received = self._clock()
        facts: dict[str, str] = {}  # the delivery id and event, once known, for the log
        try:
            async with asyncio.timeout(self._budget):
                answer, count = await self._handle(
                    namespace=namespace, name=name, request=request, received=received, facts=facts
                )
        except TimeoutError:
            answer, count = (
                _fail(503, "Timeout", f"not handled within {self._budget:g}s"),
                Count.REFUSED,
            )
        except api.ApiError as exc:
            answer, count = (
                _fail(503, "ApiError", f"the API server answered {exc.status}"),
                Count.REFUSED,
            )
        except Exception:  # a bug must cost one delivery (500), never the receiver
            log.exception("delivery to %s/%s failed", namespace, name)
            answer, count = _fail(500, "InternalError", "the receiver failed"), Count.REFUSED
        delivery = facts.get("id") or request.headers.get("X-GitHub-Delivery") or ""
        log.info(
            "delivery %s to %s/%s event=%s: %d %s %s %s",
            delivery[:128] or "-",
            namespace,
            name,
            facts.get("event") or "-",
            answer.status,
            answer.result,
            answer.reason,
            answer.object or "",
        )
        if answer.status != 404:
            outcome = tally.Outcome(
                count=count,
                result=answer.result,
                reason=answer.reason,
                message=answer.message,
                delivery=delivery,
                event=facts.get("event") or "",
                object=answer.object,
                at=received,
            )
            self._tallies.record(namespace=namespace, name=name, outcome=outcome)
        return answer

    async def _handle(
        self,
        *,
        namespace: str,
        name: str,
        request: Request,
        received: datetime.datetime,
        facts: dict[str, str],
    ) -> tuple[Answer, Count]:
        body = await self._triggers.get(
            (namespace, name), lambda: self._cluster.trigger(namespace=namespace, name=name)
        )
        if body is None:
            return _fail(404, "NotFound", f"no PipelineTrigger {namespace}/{name}"), Count.REFUSED
        parsed = spec.parse(body)
        if isinstance(parsed, model.SpecError):
            return _fail(422, "InvalidSpec", f"the trigger is invalid: {parsed}"), Count.REFUSED
        trigger = _Trigger(meta=model.Meta.from_body(body), spec=parsed)
        if request.content_length is not None and request.content_length > self._max_body:
            return _too_large(self._max_body), Count.REFUSED
        try:
            raw = await request.read()
        except TooLarge:
            return _too_large(self._max_body), Count.REFUSED
        ref = parsed.secret_ref
        secret = await self._secrets.get(
            (namespace, ref.name, ref.key),
            lambda: self._cluster.secret_value(namespace=namespace, name=ref.name, key=ref.key),
        )
        if secret is None:
            message = (
                f"the Secret {ref.name} (key {ref.key}) named by spec.secretRef is not readable"
            )
            return _fail(503, "SecretNotFound", message), Count.REFUSED
        signed = signatures.verify(
            source=parsed.source,
            secret=secret,
            body=raw,
            headers=request.headers,
            generic_header=parsed.generic.signature_header,
        )
        if not signed:
            header = signatures.header_of(
                source=parsed.source, generic_header=parsed.generic.signature_header
            )
            return _fail(401, "Unauthorized", f"missing or wrong {header}"), Count.REFUSED
        try:
            data = payload.decode(body=raw, content_type=request.content_type)
        except payload.PayloadError as exc:
            return _fail(400, "BadPayload", str(exc)), Count.REFUSED
        return await self._accept(
            trigger=trigger, request=request, raw=raw, data=data, received=received, facts=facts
        )

    async def _accept(
        self,
        *,
        trigger: _Trigger,
        request: Request,
        raw: bytes,
        data: dict[str, Any],
        received: datetime.datetime,
        facts: dict[str, str],
    ) -> tuple[Answer, Count]:
        parsed = trigger.spec
        headers = deliveries.visible_headers(
            request.headers, hidden=frozenset({parsed.generic.signature_header})
        )
        delivery = deliveries.read(
            source=parsed.source,
            headers=headers,
            body=data,
            raw=raw,
            event_header=parsed.generic.event_header,
        )
        facts.update(id=delivery.id, event=delivery.event)
        context = objects.context(
            trigger=trigger.meta, delivery=delivery, body=data, headers=headers
        )
        try:
            verdict = filters.check(filters=parsed.filters, delivery=delivery, context=context)
        except expressions.ExpressionError as exc:
            return _fail(422, "TemplateFailed", str(exc)), Count.REFUSED
        if not verdict.accepted:
            return _filtered(verdict.reason, verdict.message), Count.FILTERED
        if parsed.suspend:
            return _filtered("Suspended", "spec.suspend is true"), Count.FILTERED
        manifest = objects.manifest(
            trigger=trigger.meta,
            trigger_spec=parsed,
            delivery=delivery,
            context=context,
            received_at=received,
        )
        if isinstance(manifest, model.SpecError):
            return _fail(422, "TemplateFailed", str(manifest)), Count.REFUSED
        key = (trigger.meta.namespace, trigger.meta.name, delivery.group)
        async with self._lock(key):
            return await self._create(trigger=trigger, delivery=delivery, manifest=manifest)

    async def _create(
        self, *, trigger: _Trigger, delivery: deliveries.Delivery, manifest: dict[str, Any]
    ) -> tuple[Answer, Count]:
        kind, ns = trigger.spec.kind, trigger.meta.namespace
        name = manifest["metadata"]["name"]
        ours = {objects.TRIGGER_LABEL: trigger.meta.name}
        same_body = await self._cluster.runs(
            kind=kind, namespace=ns, labels={**ours, objects.BODY_LABEL: delivery.body_sha256[:40]}
        )
        replayed = policy.replay_of(own=name, same_body=[policy.run_of(b).name for b in same_body])
        if replayed:
            message = f"this body was delivered before, as {kind} {replayed}: a replay"
            return _fail(409, "Replayed", message), Count.REFUSED
        group = {**ours, objects.GROUP_LABEL: manifest["metadata"]["labels"][objects.GROUP_LABEL]}
        others: list[policy.Run] = []
        if trigger.spec.concurrency_policy is not spec.Policy.ALLOW:
            bodies = await self._cluster.runs(kind=kind, namespace=ns, labels=group)
            others = [policy.run_of(b) for b in bodies]
        own = policy.run_of(manifest)
        decision = policy.before_create(
            policy=trigger.spec.concurrency_policy, own=own, others=others
        )
        if not decision.create:
            message = f"{kind} {decision.blocked_by} of {delivery.group} is unfinished (Forbid)"
            answer = Answer(
                status=200, result="Skipped", reason="ConcurrencyForbid", message=message
            )
            return dataclasses.replace(
                answer, kind=kind, object=decision.blocked_by
            ), Count.FILTERED
        created = await self._cluster.create(manifest=manifest)
        if created is None:  # a redelivery: the existing object is the answer
            own = policy.run_of(await self._cluster.get(kind=kind, namespace=ns, name=name))
        for older in policy.to_revoke(
            policy=trigger.spec.concurrency_policy, own=own, others=others
        ):
            await self._cluster.revoke(kind=kind, namespace=ns, name=older)
        if created is None:
            message = f"{kind} {name} was created by an earlier delivery of {delivery.id}"
            answer = Answer(
                status=200, result="Redelivered", reason="AlreadyExists", message=message
            )
        else:
            answer = Answer(
                status=201, result="Created", reason="Created", message=f"{kind} {name}"
            )
        return dataclasses.replace(answer, kind=kind, object=name), Count.ACCEPTED

    @contextlib.asynccontextmanager
    async def _lock(self, key: tuple[str, ...]) -> AsyncIterator[None]:
        """One delivery at a time per trigger and group; the lock goes with its last user."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._locks[key]


def _fail(status: int, reason: str, message: str) -> Answer:
    return Answer(status=status, result="Refused", reason=reason, message=message)


def _filtered(reason: str, message: str) -> Answer:
    return Answer(status=200, result="Filtered", reason=reason, message=message)


def _too_large(limit: int) -> Answer:
    return _fail(413, "TooLarge", f"the body is larger than {limit} bytes")
