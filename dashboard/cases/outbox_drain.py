"""The periodic outbox drain every app process runs: aggregates owed by a process that died are
applied by the others, at start-up and then every ``outbox_drain_seconds``, with no one at the
console.

A drain is idempotent and the outbox rows are locked while applied (other processes skip them),
so every process may run one. The periodic pass leaves rows younger than ``IN_FLIGHT`` to the
writer that is about to settle them itself; the pass at start-up takes every row. Every pass
drains every served county's outbox, each on its own: a county whose drain fails (its rows stay
owed) does not keep the others' aggregates waiting.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from dashboard.cases.apply import OUTAGE_ERRORS
from dashboard.cases.periodic import PeriodicThread, for_each_county

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

log = logging.getLogger(__name__)

IN_FLIGHT = timedelta(seconds=5)
"""Rows younger than this belong to a write that is still settling them."""


def drain_county(rt: Runtime, county: str, *, older_than: timedelta | None = None) -> int:
    """One drain of ``county``'s outbox; 0 and a log line when Redis or the database is away."""
    try:
        settled = rt.case_service(county).drain(older_than=older_than)
    except OUTAGE_ERRORS:
        log.info("outbox drain %s: Redis or the database unavailable; next pass retries", county, exc_info=True)
        return 0
    if settled:
        log.info("outbox drain %s: applied %d owed row(s)", county, settled)
    return settled


def drain_counties(rt: Runtime, *, older_than: timedelta | None = None,
                   counties: list[str] | None = None) -> dict[str, int]:
    """One drain of each of ``counties`` (default: every served county): rows settled per county.
    A county whose drain raised is logged and left out; none at all when no county is imported
    or the database is away."""
    return for_each_county(rt, lambda county: drain_county(rt, county, older_than=older_than),
                           job="outbox drain", counties=counties).done


def drain_once(rt: Runtime, *, older_than: timedelta | None = None, county: str | None = None) -> int:
    """One drain of every served county's outbox (or of ``county`` only): the rows settled in all."""
    return sum(drain_counties(rt, older_than=older_than, counties=[county] if county is not None else None).values())


def drain_thread(rt: Runtime, seconds: float) -> PeriodicThread:
    """One full drain at start, then one every ``seconds`` leaving in-flight rows to their writers."""
    starting = True

    def work() -> None:
        nonlocal starting
        older_than = None if starting else IN_FLIGHT
        starting = False
        drain_once(rt, older_than=older_than)

    return PeriodicThread("outbox-drain", work, seconds, first_wait=0.0)
