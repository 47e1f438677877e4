"""The archive's database: idempotent writes (an upsert by uid), filtered
newest-first pages, and the retention delete. Synchronous SQLAlchemy Core:
the recorder calls it from a thread (asyncio.to_thread), the CLI directly.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import pathlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import alembic.command
import alembic.config
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from conveyor.archive import record, schema, selector

CHUNK = 500  # records per statement: well under SQLite's variable limit
MIGRATIONS = pathlib.Path(__file__).parent / "migrations"
R = schema.RECORDS
L = schema.LABELS


class NotMigrated(RuntimeError):
    """The database has no archive tables (yet): its writer creates them."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Filter:
    kind: str | None = record.PIPELINEJOB  # None: jobs and runs
    namespace: str | None = None
    types: Sequence[str] = ()
    worker: str | None = None
    state: str | None = None
    selector: Sequence[selector.Requirement] = ()
    since: datetime.datetime | None = None  # finished at or after
    until: datetime.datetime | None = None  # finished before
    pipelineruns: Sequence[str] = ()  # only these runs' jobs
    names: Sequence[str] = ()  # only objects of these names


@dataclasses.dataclass(frozen=True, kw_only=True)
class Page:
    records: list[record.Record]
    next: str | None  # the token of the next page; None on the last


def engine(url: sa.URL) -> sa.Engine:
    if url.get_backend_name() == "sqlite":
        created = sa.create_engine(url, connect_args={"timeout": 30})
        sa.event.listen(created, "connect", _sqlite_pragmas)
        return created
    return sa.create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL: the CLI reads while the recorder writes.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Archive:
    def __init__(self, *, url: sa.URL) -> None:
        self.url = url
        self.engine = engine(url)

    def close(self) -> None:
        self.engine.dispose()

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        if self.url.get_backend_name() == "sqlite":
            pathlib.Path(self.url.database or "").parent.mkdir(parents=True, exist_ok=True)
        config = alembic.config.Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            alembic.command.upgrade(config, "head")

    def check(self) -> None:
        """NotMigrated when the tables are not there (a reader must not create them)."""
        sqlite_file = self.url.get_backend_name() == "sqlite" and self.url.database
        if sqlite_file and not pathlib.Path(sqlite_file).exists():
            raise NotMigrated(f"{sqlite_file} does not exist: the recorder creates it")
        if not sa.inspect(self.engine).has_table(R.name):
            raise NotMigrated(
                "the archive has no tables yet: the recorder (`conveyor archive`) creates them"
            )

    def write(self, records: Iterable[record.Record], *, now: datetime.datetime) -> int:
        """Upsert by uid; returns how many were not in the archive before."""
        new = 0
        with self.engine.begin() as connection:
            for chunk in _chunks(list({r.uid: r for r in records}.values())):
                uids = [r.uid for r in chunk]
                known = set(connection.scalars(sa.select(R.c.uid).where(R.c.uid.in_(uids))))
                new += len(set(uids) - known)
                connection.execute(_upsert(connection.dialect.name), [_row(r, now) for r in chunk])
                connection.execute(sa.delete(L).where(L.c.uid.in_(uids)))
                labels = [
                    {"uid": r.uid, "key": k, "value": v} for r in chunk for k, v in r.labels.items()
                ]
                if labels:
                    connection.execute(sa.insert(L), labels)
        return new

    def prune(self, *, before: datetime.datetime) -> int:
        """Delete what finished before `before`; returns how many records went."""
        old = sa.select(R.c.uid).where(R.c.finished_at < before)
        with self.engine.begin() as connection:
            connection.execute(sa.delete(L).where(L.c.uid.in_(old)))
            return int(connection.execute(sa.delete(R).where(R.c.finished_at < before)).rowcount)

    def count(self, *, where: Filter | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(R)
        query = query.where(*_conditions(where or Filter(kind=None)))
        with self.engine.connect() as connection:
            return int(connection.scalar(query) or 0)

    def page(self, *, where: Filter, limit: int, token: str | None = None, offset: int = 0) -> Page:
        """At most `limit` records, newest finish first, after the page `token`
        ended (or after skipping `offset`: numbered pages, as the dashboard's)."""
        query = sa.select(R).where(*_conditions(where))
        if token:
            finished, uid = _decode(token)
            query = query.where(
                sa.or_(
                    R.c.finished_at < finished,
                    sa.and_(R.c.finished_at == finished, R.c.uid < uid),
                )
            )
        query = query.order_by(R.c.finished_at.desc(), R.c.uid.desc()).limit(limit + 1)
        query = query.offset(offset) if offset else query
        with self.engine.connect() as connection:
            rows = [_record(dict(row)) for row in connection.execute(query).mappings()]
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(records=rows, next=_encode(rows[-1]) if more and rows else None)

    def all(self, *, where: Filter) -> Iterator[record.Record]:
        token: str | None = None
        while True:
            page = self.page(where=where, limit=CHUNK, token=token)
            yield from page.records
            if page.next is None:
                return
            token = page.next


def _chunks(items: list[record.Record]) -> Iterator[list[record.Record]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _upsert(dialect: str) -> Any:
    """One statement for many rows (executemany: compiled once, cached)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(R)
    changed = {c.name: statement.excluded[c.name] for c in R.columns if c.name != "uid"}
    return statement.on_conflict_do_update(index_elements=[R.c.uid], set_=changed)


def _row(r: record.Record, now: datetime.datetime) -> dict[str, Any]:
    row = {f.name: getattr(r, f.name) for f in dataclasses.fields(r)}
    row["labels"] = dict(r.labels)
    row["summary"] = dict(r.summary)
    row["recorded_at"] = now
    return row


def _record(row: Mapping[str, Any]) -> record.Record:
    names = {f.name for f in dataclasses.fields(record.Record)}
    return record.Record(**{k: v for k, v in row.items() if k in names})


def _conditions(where: Filter) -> list[sa.ColumnElement[bool]]:
    out: list[sa.ColumnElement[bool]] = []
    if where.kind is not None:
        out.append(R.c.kind == where.kind)
    if where.namespace is not None:
        out.append(R.c.namespace == where.namespace)
    if where.types:
        out.append(R.c.type.in_(list(where.types)))
    if where.worker is not None:
        out.append(R.c.worker == where.worker)
    if where.state is not None:
        out.append(R.c.state == where.state)
    if where.since is not None:
        out.append(R.c.finished_at >= where.since)
    if where.until is not None:
        out.append(R.c.finished_at < where.until)
    if where.pipelineruns:
        out.append(R.c.pipelinerun.in_(list(where.pipelineruns)))
    if where.names:
        out.append(R.c.name.in_(list(where.names)))
    out += [_label(req) for req in where.selector]
    return out


def _label(req: selector.Requirement) -> sa.ColumnElement[bool]:
    match = sa.select(L.c.uid).where(L.c.uid == R.c.uid, L.c.key == req.key)
    if req.op in ("=", "!=") and req.value is not None:
        has = sa.exists(match.where(L.c.value == req.value))
        return has if req.op == "=" else ~has
    has = sa.exists(match)
    return has if req.op == "exists" else ~has


def _encode(r: record.Record) -> str:
    text = f"{r.finished_at.astimezone(datetime.UTC).isoformat()}|{r.uid}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(token: str) -> tuple[datetime.datetime, str]:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        finished, uid = text.split("|", 1)
        return datetime.datetime.fromisoformat(finished), uid
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{token!r} is not a page token of `conveyor history`") from exc
