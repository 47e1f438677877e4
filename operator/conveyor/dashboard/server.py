"""The dashboard's web server: read-only pages (GET only), one event stream,
static files shipped in the package, and strict security headers."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import importlib.resources
from collections.abc import Awaitable, Callable
from typing import Any

import jinja2
from aiohttp import web

from conveyor.dashboard import logs, pagecache, snapshot, sse
from conveyor.dashboard import store as store_
from conveyor.dashboard.views import history, insights, job, jobs, runs, workers
from conveyor.k8s import api

Clock = Callable[[], datetime.datetime]

# Everything from this origin, nothing inline, nothing from elsewhere.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
FRAGMENT_HEADER = "X-Fragment"

STORE = web.AppKey("store", store_.Store)
HUB = web.AppKey("hub", sse.Hub)
SNAPSHOTS = web.AppKey("snapshots", snapshot.Snapshots)
CLIENT = web.AppKey("client", api.Client)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
ENV = web.AppKey("env", jinja2.Environment)
SCOPE = web.AppKey("scope", str)  # the namespace watched; "" for all
PAGES = web.AppKey("pages", pagecache.PageCache)
# The archive (docs/history.md), when configured; typed loosely so that the
# dashboard runs without the history extra's libraries.
ARCHIVE: web.AppKey[Any] = web.AppKey("archive")
DAY = datetime.timedelta(days=1)
Page = Callable[[web.Request], Awaitable[web.Response]]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def secure(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer, streams and errors too, carries the security headers."""
    response.headers.update(SECURITY_HEADERS)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("conveyor.dashboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["css"] = lambda state: "state-" + str(state).lower().replace("-", "")
    return env


def render(request: web.Request, name: str, *, kinds: str, **values: Any) -> web.Response:
    """A page; only its live part when the browser asks for a fragment."""
    app = request.app
    snap = app[SNAPSHOTS].get()
    template = app[ENV].get_template(name)
    fragment = bool(request.headers.get(FRAGMENT_HEADER))
    context = {
        "version": snap.version,
        "kinds": kinds,
        "sync": snap.sync,
        "path": request.path,
        "scope": app[SCOPE],
        "fragment": fragment,
        **values,
    }
    headers = {"X-Version": str(snap.version), "Cache-Control": "no-store"}
    return web.Response(text=template.render(context), content_type="text/html", headers=headers)


def cached(handler: Page) -> Page:
    """Serve a page rendered for the same version, clock step and address."""

    async def page(request: web.Request) -> web.Response:
        app = request.app
        version = app[SNAPSHOTS].get().version
        now = app[CLOCK]().timestamp()
        key = (request.path_qs, bool(request.headers.get(FRAGMENT_HEADER)))
        text = app[PAGES].get(key, version=version, now=now)
        if text is None:
            response = await handler(request)
            if response.status != 200 or response.text is None:
                return response
            text = response.text
            app[PAGES].put(key, text, version=version, now=now)
        headers = {"X-Version": str(version), "Cache-Control": "no-store"}
        return web.Response(text=text, content_type="text/html", headers=headers)

    return page


async def jobs_page(request: web.Request) -> web.Response:
    snap = request.app[SNAPSHOTS].get()
    filters = jobs.Filters.from_query(request.query)
    table = jobs.table(
        jobs=snap.jobs,
        workers=snap.workers,
        typical=snap.typical,
        filters=filters,
        now=request.app[CLOCK](),
    )
    return render(request, "jobs.html.j2", kinds="pipelinejobs workers", table=table)


def _in(items: tuple[dict[str, Any], ...], namespace: str) -> list[dict[str, Any]]:
    return [b for b in items if (b.get("metadata") or {}).get("namespace") == namespace]


async def job_page(request: web.Request) -> web.Response:
    ns, name = request.match_info["namespace"], request.match_info["name"]
    snap = request.app[SNAPSHOTS].get()
    body = snap.job_bodies.get((ns, name))
    if body is None:
        return render(
            request, "missing.html.j2", kinds="pipelinejobs", what=f"PipelineJob {ns}/{name}"
        )
    view = job.detail(
        body=body,
        # Of the other jobs the diagnosis reads only those holding slots or
        # queue places, all unfinished: 5,000 finished ones need no new parse.
        jobs=[
            snap.job_bodies[j.key]
            for j in snap.jobs
            if j.meta.namespace == ns and not (j.status.state and j.status.state.finished)
        ],
        workers=_in(snap.worker_bodies, ns),
        pods=_in(snap.pods, ns),
        events=_in(snap.events, ns),
        typical=snap.typical,
        now=request.app[CLOCK](),
    )
    return render(request, "job.html.j2", kinds="pipelinejobs workers pods events", job=view)


async def logs_stream(request: web.Request) -> web.StreamResponse:
    ns, name = request.match_info["namespace"], request.match_info["name"]
    store = request.app[STORE]
    body = store.get("pipelinejobs", namespace=ns, name=name) or {}
    current = (body.get("status") or {}).get("job")
    pods = store.items("pods", namespace=ns)
    pod_name = job.latest_pod(pods=pods, job=current)
    pod = store.get("pods", namespace=ns, name=pod_name) if pod_name else None
    return await logs.stream(request, client=request.app[CLIENT], namespace=ns, pod=pod)


async def runs_page(request: web.Request) -> web.Response:
    snap = request.app[SNAPSHOTS].get()
    namespace = str(request.query.get("namespace") or "")
    rows = runs.run_rows(runs=list(snap.runs), now=request.app[CLOCK](), namespace=namespace)
    missing = snap.sync.get("pipelineruns") == store_.Sync.MISSING
    return render(request, "runs.html.j2", kinds="pipelineruns", rows=rows, missing=missing)


async def run_page(request: web.Request) -> web.Response:
    ns, name = request.match_info["namespace"], request.match_info["name"]
    snap = request.app[SNAPSHOTS].get()
    body = next((r for r in snap.runs if store_.key_of(r) == (ns, name)), None)
    if body is None:
        return render(
            request, "missing.html.j2", kinds="pipelineruns", what=f"PipelineRun {ns}/{name}"
        )
    states = {j.key: str(j.status.state) for j in snap.jobs if j.status.state}
    pipelines = {store_.key_of(p): p for p in snap.pipelines}
    view = runs.graph(run=body, states=states, pipelines=pipelines)
    row = runs.run_row(body, now=request.app[CLOCK]())
    return render(request, "run.html.j2", kinds="pipelineruns pipelinejobs", run=row, graph=view)


async def workers_page(request: web.Request) -> web.Response:
    snap = request.app[SNAPSHOTS].get()
    rows = workers.rows(
        workers=snap.workers,
        bodies=snap.worker_bodies,
        jobs=snap.jobs,
        pods=snap.pods,
        now=request.app[CLOCK](),
    )
    return render(request, "workers.html.j2", kinds="workers pipelinejobs pods", rows=rows)


async def history_page(request: web.Request) -> web.Response:
    snap = request.app[SNAPSHOTS].get()
    filters = jobs.Filters.from_query(request.query)
    ns = filters.namespace
    now = request.app[CLOCK]()
    if request.app.get(ARCHIVE) is not None:  # months of history, not just what the API has
        view, run_bodies = await asyncio.to_thread(
            _archived, request.app[ARCHIVE], namespace=ns, page=filters.page, now=now
        )
    else:
        chosen = [j for j in snap.jobs if not ns or j.meta.namespace == ns]
        view = history.history(jobs=chosen, now=now, page=filters.page)
        run_bodies = list(snap.runs)
    finished = [
        r
        for r in runs.run_rows(runs=run_bodies, now=now, namespace=ns)
        if r.state in history.FINISHED
    ]
    return render(
        request,
        "history.html.j2",
        kinds="pipelinejobs pipelineruns",
        history=view,
        runs=finished,
        page=filters.page,
        filters=filters,
        namespaces=sorted({j.meta.namespace for j in snap.jobs}),
    )


def _archived(
    archive: Any, *, namespace: str, page: int, now: datetime.datetime
) -> tuple[history.History, list[Any]]:
    """The history view from the archive (an archive.store.Archive); in a thread."""
    from conveyor.archive import record, store
    from conveyor.dashboard.views import archived

    where = store.Filter(namespace=namespace or None)
    size = archived.PAGE_SIZE
    view = archived.view(
        recent=list(archive.all(where=dataclasses.replace(where, since=now - DAY))),
        page=archive.page(where=where, limit=size, offset=(page - 1) * size).records,
        finished=archive.count(where=where),
        succeeded=archive.count(where=dataclasses.replace(where, state="SUCCESS")),
        now=now,
    )
    run_where = dataclasses.replace(where, kind=record.PIPELINERUN)
    return view, archived.run_bodies(archive.page(where=run_where, limit=size).records)


async def insights_page(request: web.Request) -> web.Response:
    """The DORA metrics from the archive; without one, how to configure it."""
    filters = insights.Filters.from_query(request.query)
    snap = request.app[SNAPSHOTS].get()
    view = None
    if request.app.get(ARCHIVE) is not None:
        now = request.app[CLOCK]()
        # A dashboard of one namespace shows that one's, whatever else the archive holds.
        namespace = request.app[SCOPE] or filters.namespace
        view = await asyncio.to_thread(
            _insights, request.app[ARCHIVE], filters=filters, namespace=namespace, now=now
        )
    return render(
        request,
        "insights.html.j2",
        # Figures over days: the stream's tick (every 30 s) refreshes them, not
        # every job's change (each refresh reads the window from the archive).
        kinds="",
        insights=view,
        filters=filters,
        windows=insights.WINDOWS,
        namespaces=sorted({j.meta.namespace for j in snap.jobs}),
    )


def _insights(
    archive: Any, *, filters: insights.Filters, namespace: str, now: datetime.datetime
) -> insights.Insights:
    """The changes the archive holds before `now`, read as `conveyor insights
    --archive` reads them (archive.deliveries), and the page's figures; in a
    thread, as the charts compute a report per day."""
    from conveyor.archive import changes, deliveries

    found = deliveries.records(archive=archive, until=now, namespace=namespace or None)
    return insights.view(changes=changes.changes(found), filters=filters, now=now)


async def events_stream(request: web.Request) -> web.StreamResponse:
    return await sse.stream(request, hub=request.app[HUB])


async def healthz(request: web.Request) -> web.Response:
    return web.json_response(request.app[STORE].health())


async def index(request: web.Request) -> web.Response:
    raise web.HTTPFound("/jobs")


def make_app(
    *,
    store: store_.Store,
    client: api.Client,
    scope: str = "",
    clock: Clock = _now,
    archive: Any = None,
) -> web.Application:
    """`archive` (an archive.store.Archive): the history page reads it."""
    app = web.Application()
    app[ARCHIVE] = archive
    app.on_response_prepare.append(secure)
    app[STORE] = store
    app[HUB] = sse.Hub(store=store)
    app[SNAPSHOTS] = snapshot.Snapshots(store=store)
    app[CLIENT] = client
    app[CLOCK] = clock
    app[ENV] = _environment()
    app[SCOPE] = scope
    app[PAGES] = pagecache.PageCache()
    static = importlib.resources.files("conveyor.dashboard") / "static"
    app.router.add_get("/", index)
    app.router.add_get("/jobs", cached(jobs_page))
    app.router.add_get("/jobs/{namespace}/{name}", cached(job_page))
    app.router.add_get("/logs/{namespace}/{name}", logs_stream)
    app.router.add_get("/runs", cached(runs_page))
    app.router.add_get("/runs/{namespace}/{name}", cached(run_page))
    app.router.add_get("/workers", cached(workers_page))
    app.router.add_get("/history", cached(history_page))
    app.router.add_get("/insights", cached(insights_page))
    app.router.add_get("/events", events_stream)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static", str(static), append_version=False)
    return app
