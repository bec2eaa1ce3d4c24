"""The periodic outbox drain every app process runs: aggregates owed by a process that died are
applied by the others, at start-up and then every ``outbox_drain_seconds``, with no one at the
console.

A drain is idempotent and the outbox rows are locked while applied (other processes skip them),
so every process may run one. The periodic pass leaves rows younger than ``IN_FLIGHT`` to the
writer that is about to settle them itself; the pass at start-up takes every row.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from dashboard.cases.apply import OUTAGE_ERRORS
from dashboard.cases.periodic import PeriodicThread

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

log = logging.getLogger(__name__)

IN_FLIGHT = timedelta(seconds=5)
"""Rows younger than this belong to a write that is still settling them."""


def drain_once(rt: Runtime, *, older_than: timedelta | None = None) -> int:
    """One drain of the served county's outbox; 0 and a log line when Redis or the database is away."""
    try:
        settled = rt.cases.drain(older_than=older_than)
    except (*OUTAGE_ERRORS, RuntimeError):  # RuntimeError: no county imported yet (NoCountyError)
        log.info("outbox drain: Redis or the database unavailable; next pass retries", exc_info=True)
        return 0
    if settled:
        log.info("outbox drain: applied %d owed row(s)", settled)
    return settled


def drain_thread(rt: Runtime, seconds: float) -> PeriodicThread:
    """One full drain at start, then one every ``seconds`` leaving in-flight rows to their writers."""
    starting = True

    def work() -> None:
        nonlocal starting
        older_than = None if starting else IN_FLIGHT
        starting = False
        drain_once(rt, older_than=older_than)

    return PeriodicThread("outbox-drain", work, seconds, first_wait=0.0)
