"""One daemon thread per periodic job of an app process: the deadline scheduler, the outbox drain,
the report schedule.

A pass that raises is logged and the next pass still runs: a job that stops by itself would leave
deadlines unchased or owed aggregates unapplied with nobody told. Several processes run the same
jobs; each job makes itself safe for that (a Redis lock, locked rows).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


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
