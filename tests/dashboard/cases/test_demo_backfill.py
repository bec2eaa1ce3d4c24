"""The demo backfill can be rerun longer or later: it fills in the missing days and never writes a
day twice (a longer rerun used to draw other sources for the same references and fail)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from dashboard.cases import demo
from dashboard.runtime import Runtime
from data_access.models import Case, CaseEvent

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def _cases(rt: Runtime) -> list[tuple[str, ...]]:
    """Each case's source, reference, category, grid and text (a planted repeat's text retells a case
    of the days before: it must not depend on whether those days are written too)."""
    with rt.sessions() as session:
        return sorted(tuple(row) for row in session.execute(
            select(Case.source, Case.external_ref, Case.category, Case.grid_code, Case.description)))


def test_a_longer_rerun_fills_only_the_missing_days(runtime: Runtime, county: str) -> None:
    first = demo.backfill(runtime.cases, days=2, now=NOW)
    assert first > 0
    more = demo.backfill(runtime.cases, days=4, now=NOW)
    assert more > 0
    assert demo.backfill(runtime.cases, days=4, now=NOW) == 0, "nothing is written twice"
    with runtime.sessions() as session:
        days = session.execute(select(func.count(func.distinct(func.substr(Case.external_ref, 6, 8))))).scalar_one()
    assert days == 4


def test_a_day_is_the_same_whichever_days_are_written_with_it(runtime: Runtime, county: str) -> None:
    day = NOW.date() - timedelta(days=400)
    history = demo.History(demo.CaseFactory(runtime.cases, random.Random(20260101)), 20260101)
    refs = {case.draft.external_ref for case in history.day(day)}
    assert any(case.repeats and case.repeats not in refs for case in history.day(day)), \
        "the day holds a repeat of a case of the day before"
    demo.backfill_days(runtime.cases, [day], now=NOW)
    alone = _cases(runtime)
    with runtime.engine.begin() as conn:
        conn.execute(CaseEvent.__table__.delete())
        conn.execute(Case.__table__.delete())
    demo.backfill_days(runtime.cases, [day - timedelta(days=1), day], now=NOW)
    assert set(alone) <= set(_cases(runtime))
