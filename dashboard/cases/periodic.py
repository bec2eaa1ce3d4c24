"""One daemon thread per periodic job of an app process: the deadline scheduler, the outbox drain,
the report schedule; and :func:`for_each_county`, which runs one pass of a job for every served
county (a city or province deployment serves many), one county's failure not stopping the others.

A pass that raises is logged and the next pass still runs: a job that stops by itself would leave
deadlines unchased or owed aggregates unapplied with nobody told. Several processes run the same
jobs; each job makes itself safe for that (a Redis lock, locked rows).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class CountyRuns(Generic[T]):
    """What one pass of a job did in each served county: the results of the counties it finished
    and, for each county whose pass raised, the error's text."""

    done: dict[str, T] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def for_each_county(rt: Runtime, work: Callable[[str], T], *, job: str,
                    counties: Sequence[str] | None = None) -> CountyRuns[T]:
    """Run ``work`` for each of ``counties`` (default: every county the runtime serves, read now,
    so a county imported meanwhile is served at the next pass), in code order.

    A county whose pass raises is logged and recorded in ``failed``; the others still run: one
    county's bad data or a lock lost must not leave a whole city's deadlines unchased. Nothing
    runs (and nothing is raised) when the served counties cannot be read: the next pass retries."""
    runs: CountyRuns[T] = CountyRuns()
    if counties is None:
        try:
            counties = rt.served_counties()
        except Exception as error:  # noqa: BLE001 - the database away: the next pass retries
            log.warning("%s: cannot read the served counties; the next pass retries", job, exc_info=True)
            runs.failed["*"] = str(error)
            return runs
    for county in counties:
        try:
            runs.done[county] = work(county)
        except Exception as error:  # noqa: BLE001 - one county's failure must not stop the others
            log.exception("%s: the pass for county %s failed; the other counties go on", job, county)
            runs.failed[county] = str(error) or type(error).__name__
    return runs


class PeriodicThread:
    """Runs ``work`` every ``interval`` seconds, the first time after ``first_wait`` (default: one
    interval), until :meth:`stop`."""

    def __init__(self, name: str, work: Callable[[], None], interval: float, *, first_wait: float | None = None,
                 join_seconds: float = 10.0) -> None:
        self.name = name
        self.work = work
        self.interval = interval
        self.first_wait = interval if first_wait is None else first_wait
        self.join_seconds = join_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.join_seconds)

    def _run(self) -> None:
        wait = self.first_wait
        while not self._stop.wait(wait):
            wait = self.interval
            try:
                self.work()
            except Exception:  # noqa: BLE001 - a bad pass must not stop the next one
                log.exception("%s: a pass failed; the next one runs in %.0f s", self.name, self.interval)
