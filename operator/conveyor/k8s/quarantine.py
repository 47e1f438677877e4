"""One object's exception stays that object's: logged (a traceback at most
once per object per LOG_EVERY, a line otherwise), counted, and the object
looked at again later; never out of a watch feed or a control round, where
it would stop the others or print a traceback at every event.

Bodies are shaped at the door (store.lean) and parsed without raising
(core/model.py), so reaching here is a defect to report, not a user's error
to show: the user's errors are InvalidSpec, decided in the core.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

from conveyor import metrics

LOG_EVERY = 600.0  # seconds between two tracebacks for one object
RETRY_AFTER = 5.0  # seconds before the object is looked at again
_MAX_REMEMBERED = 10_000  # objects whose last traceback time is kept

logger = logging.getLogger("conveyor.controller")


class Quarantine:
    def __init__(self, *, monotonic: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self._logged: dict[str, float] = {}

    @contextlib.contextmanager
    def guard(
        self, what: str, target: object, *, retry: Callable[[float], None] | None = None
    ) -> Iterator[None]:
        """Run the block; an exception in it is reported for `target`,
        swallowed, and `retry(RETRY_AFTER)` called. `what` names the step
        ("advancing", "admission pass", "watch event")."""
        try:
            yield
        except Exception:
            self.report(what, target)
            if retry is not None:
                retry(RETRY_AFTER)

    def report(self, what: str, target: object) -> None:
        metrics.CONTROLLER_EVENTS.labels("object_errors").inc()
        name = f"{what} {target}"
        now = self._monotonic()
        last = self._logged.get(name)
        if last is not None and now - last < LOG_EVERY:
            logger.warning("%s failed again (traceback logged before)", name)
            return
        if len(self._logged) >= _MAX_REMEMBERED:
            self._logged.clear()
        self._logged[name] = now
        logger.exception("%s failed; it is retried, the others go on", name)
