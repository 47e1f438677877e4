"""The jobs page: one row per PipelineJob (the columns of `conveyor get`, plus
progress), filtered and paged on the server so 5,000 jobs stay usable."""

from __future__ import annotations

import dataclasses
import datetime
import urllib.parse
from collections.abc import Mapping, Sequence

from conveyor.core import model, progress, queue
from conveyor.presentation import humanize

PAGE_SIZE = 50
FILTERS = ("namespace", "state", "type", "worker", "label", "q")
# Active jobs first (what people watch), then the newest.
_RANK = {model.State.RUNNING: 0, model.State.IN_QUEUE: 1, None: 1}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Filters:
    namespace: str = ""
    state: str = ""
    type: str = ""
    worker: str = ""
    label: str = ""  # a selector: k=v, k!=v or k, comma-separated
    q: str = ""  # a substring of the name, reason or message
    page: int = 1

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Filters:
        try:
            page = max(int(query.get("page") or 1), 1)
        except ValueError:
            page = 1
        values = {f: str(query.get(f) or "").strip()[:200] for f in FILTERS}
        return cls(page=page, **values)

    def query(self, **changes: object) -> str:
        """This filter's query string, with some fields changed (for links)."""
        fields = {**dataclasses.asdict(self), **changes}
        kept = {k: str(v) for k, v in fields.items() if v and not (k == "page" and v == 1)}
        return urllib.parse.urlencode(kept)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Row:
    namespace: str
    name: str
    state: str
    reason: str
    message: str
    type: str
    worker: str
    attempt: str
    queue: str
    age: str
    duration: str
    progress: str
    fraction: float | None  # elapsed of typical, for the progress bar

    @property
    def href(self) -> str:
        return f"/jobs/{self.namespace}/{self.name}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Table:
    rows: tuple[Row, ...]
    total: int  # jobs in view, before filters
    matched: int  # after filters
    page: int
    pages: int
    filters: Filters
    options: Mapping[str, tuple[str, ...]]  # values offered by each select
    counts: Mapping[str, int]  # jobs per state, after filters


def _selector(text: str) -> list[tuple[str, str, str | None]]:
    """(key, op, value) terms of a label selector; op is =, != or exists."""
    terms: list[tuple[str, str, str | None]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if "!=" in part:
            k, v = part.split("!=", 1)
            terms.append((k.strip(), "!=", v.strip()))
        elif "=" in part:
            k, v = part.split("=", 1)
            terms.append((k.strip(), "=", v.strip().lstrip("=")))
        else:
            terms.append((part, "exists", None))
    return terms


def labels_match(labels: Mapping[str, str], selector: str) -> bool:
    for key, op, value in _selector(selector):
        if op == "exists" and key not in labels:
            return False
        if op == "=" and labels.get(key) != value:
            return False
        if op == "!=" and labels.get(key) == value:
            return False
    return True


def _matches(
    job: model.PipelineJob, *, worker: str | None, filters: Filters, selector: str
) -> bool:
    st = job.status
    checks = (
        (filters.namespace, job.meta.namespace),
        (filters.state, str(st.state) if st.state else "-"),
        (filters.type, job.raw_type),
        (filters.worker, worker or ""),
    )
    if any(want and want != have for want, have in checks):
        return False
    if selector and not labels_match(job.meta.labels, selector):
        return False
    if filters.q:
        needle = filters.q.lower()
        hay = " ".join((job.meta.name, st.reason or "", st.message or "")).lower()
        return needle in hay
    return True


def row(
    *,
    job: model.PipelineJob,
    worker: str | None,
    place: queue.Position | None,
    typical: progress.Typical,
    now: datetime.datetime,
) -> Row:
    st = job.status
    started = model.parse_time(st.started_at)
    finished = model.parse_time(st.finished_at)
    guess = progress.estimate(job=job, typical=typical, now=now)
    return Row(
        namespace=job.meta.namespace,
        name=job.meta.name,
        state=str(st.state) if st.state else "-",
        reason=st.reason or "",
        message=st.message or "",
        type=job.raw_type or "-",
        worker=worker or "-",
        attempt=str(st.attempt) if st.state else "-",
        queue=str(place) if place else "",
        age=humanize.age(job.meta.created_at, now=now),
        duration=humanize.between(started, finished, now=now),
        progress=str(guess) if guess else "",
        fraction=guess.fraction if guess else None,
    )


def table(
    *,
    jobs: Sequence[model.PipelineJob],
    workers: Sequence[model.Worker],
    typical: progress.Typical,
    filters: Filters,
    now: datetime.datetime,
    page_size: int = PAGE_SIZE,
) -> Table:
    worker_of = {j.key: queue.worker_of(job=j, workers=workers) for j in jobs}
    matched = [
        j
        for j in jobs
        if _matches(j, worker=worker_of[j.key], filters=filters, selector=filters.label)
    ]
    matched.sort(key=lambda j: (j.meta.name, j.meta.namespace))
    matched.sort(key=lambda j: j.meta.created_at, reverse=True)
    matched.sort(key=lambda j: _RANK.get(j.status.state, 2))
    pages = max((len(matched) + page_size - 1) // page_size, 1)
    page = min(filters.page, pages)
    shown = matched[(page - 1) * page_size : page * page_size]
    places = queue.positions(jobs=jobs, workers=workers) if shown else {}
    counts: dict[str, int] = {}
    for j in matched:
        name = str(j.status.state) if j.status.state else "-"
        counts[name] = counts.get(name, 0) + 1
    return Table(
        rows=tuple(
            row(job=j, worker=worker_of[j.key], place=places.get(j.key), typical=typical, now=now)
            for j in shown
        ),
        total=len(jobs),
        matched=len(matched),
        page=page,
        pages=pages,
        filters=dataclasses.replace(filters, page=page),
        options={
            "namespace": tuple(sorted({j.meta.namespace for j in jobs})),
            "state": tuple(str(s) for s in model.State),
            "type": tuple(sorted({j.raw_type for j in jobs if j.raw_type})),
            "worker": tuple(sorted({w for w in worker_of.values() if w})),
        },
        counts=counts,
    )
