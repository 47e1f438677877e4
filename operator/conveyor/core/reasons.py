"""The sentences on a job's status.message: what a person reads in
`kubectl get`/`describe` to learn why a job is where it is.

Pure: no I/O; times are passed in.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from conveyor.core import durations, model

# Name at most this many slot holders; the rest are counted.
MAX_HOLDERS_NAMED = 5


def _at(when: datetime.datetime, *, now: datetime.datetime) -> str:
    wait = max(when - now, datetime.timedelta(0))
    return f"{model.format_time(when)} (in {durations.format(_whole_seconds(wait))})"


def _whole_seconds(value: datetime.timedelta) -> datetime.timedelta:
    return datetime.timedelta(seconds=round(value.total_seconds()))


def queued() -> str:
    return "waiting to be scheduled"


def no_worker(*, namespace: str, worker_type: str, named: str | None) -> str:
    if named:
        return (
            f"no Worker named {named!r} of type {worker_type} in namespace {namespace}; create it"
        )
    return f"no Worker of type {worker_type} in namespace {namespace}; create one"


def ambiguous_worker(*, worker_type: str, names: Sequence[str]) -> str:
    return (
        f"{len(names)} Workers of type {worker_type} ({', '.join(names)}) and none is named "
        f"'{worker_type}'; set spec.worker to choose one"
    )


def wrong_worker_type(*, worker: str, has: str, needs: str) -> str:
    return f"Worker {worker!r} runs {has} jobs, but this job needs a {needs} Worker"


def worker_paused(*, worker: str) -> str:
    return f"Worker {worker} is paused (spec.paused); its running jobs finish, nothing new starts"


def worker_offline(*, worker: str, cause: str | None) -> str:
    text = f"Worker {worker} is offline"
    return f"{text}: {cause}" if cause else text


def slots_busy(*, worker: str, busy: int, limit: int, holders: Sequence[str]) -> str:
    """Why jobs wait for `worker`: the same for all of its queue."""
    if limit == 0:
        return f"Worker {worker} has concurrency 0 (on hold)"
    named = ", ".join(holders[:MAX_HOLDERS_NAMED])
    more = len(holders) - MAX_HOLDERS_NAMED
    if more > 0:
        named += f", +{more} more"
    held = f" ({named})" if named else ""
    return f"{busy} of {limit} slots busy{held}"


def with_position(why: str, *, position: int, waiting: int) -> str:
    """A waiting job's sentence: why its queue waits, then its place in it."""
    return f"{why}; position {position} of {waiting}"


def delayed(*, start_at: datetime.datetime, now: datetime.datetime) -> str:
    return f"delayed start: waiting until {_at(start_at, now=now)}"


def delaying(*, until: datetime.datetime, now: datetime.datetime) -> str:
    return f"delay job: waiting until {_at(until, now=now)}"


def retry_backoff(
    *, attempt: int, attempts: int, failure: str, next_at: datetime.datetime, now: datetime.datetime
) -> str:
    when = _at(next_at, now=now)
    return f"attempt {attempt} of {attempts} failed ({failure}); next attempt at {when}"


def starting(*, job: str, waiting_reason: str | None, waiting_message: str | None) -> str:
    if not waiting_reason:
        return f"Job {job} created; waiting for its pod to start"
    detail = f": {waiting_message}" if waiting_message else ""
    return f"pod of Job {job} is not running: {waiting_reason}{detail}"


def replacing(*, job: str) -> str:
    """A RUNNING job whose pod went away: the Job controller makes another."""
    return f"the pod of Job {job} is gone; waiting for its replacement to start"


def running(*, attempt: int, attempts: int, pod: str | None) -> str:
    where = f" in pod {pod}" if pod else ""
    return f"attempt {attempt} of {attempts} running{where}"


def succeeded(*, attempt: int, note: str | None) -> str:
    text = f"attempt {attempt} succeeded"
    return f"{text}; {note}" if note else text


def failure(*, reason: str, exit_code: int | None, detail: str | None, timeout: str | None) -> str:
    """A short account of one failed attempt."""
    if reason == model.Reason.DEADLINE_EXCEEDED:
        return f"ran longer than the timeout {timeout}" if timeout else "deadline exceeded"
    if reason == model.Reason.JOB_LOST:
        return detail or "its Job disappeared"
    if exit_code is not None:
        return f"exit code {exit_code}"
    return detail or "pod failed"


def failed(*, attempt: int, account: str) -> str:
    return f"attempt {attempt} failed: {account}"


def retries_exhausted(*, attempts: int, account: str) -> str:
    return f"all {attempts} attempts failed; last: {account}"


def revoked(*, was_running: bool, attempts: int = 0, has_job: bool = True) -> str:
    if was_running:
        return "revoked (spec.revoke); its Job was stopped" if has_job else "revoked (spec.revoke)"
    if attempts:
        return f"revoked (spec.revoke) between attempts, after {attempts}"
    return "revoked (spec.revoke) before it started"


def invalid_spec(*, error: model.SpecError) -> str:
    return str(error)
