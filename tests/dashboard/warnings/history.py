"""A test county's quiet history and an injected burst, written through the real write path."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from dashboard.cases.casework import new_case
from dashboard.domain.periods import day_start, local_date
from dashboard.domain.vocabulary import Category
from dashboard.runtime import Runtime
from data_access import cases
from tests.factories import GRID_CODES, draft

QUIET_CATEGORIES = [Category.neighbour, Category.marriage_family, Category.debt, Category.labour_wages]


def write_quiet_history(rt: Runtime, now: datetime, *, days: int = 70, per_day: int = 4, seed: int = 16) -> int:
    """``per_day`` cases a day (weekdays twice as many as weekends) over ``days`` local days before
    today, in everyday categories, spread over every grid, at office hours."""
    rng = random.Random(seed)
    drafts = []
    today = local_date(now)
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        n = per_day * 2 if day.weekday() < 5 else per_day
        for k in range(n):
            at = day_start(day) + timedelta(hours=rng.uniform(8.5, 17.5))
            drafts.append(draft(len(drafts), at, category=rng.choice(QUIET_CATEGORIES), grid_code=rng.choice(GRID_CODES),
                                external_ref=f"quiet-{day:%Y%m%d}-{k}"))

    def work(session):  # type: ignore[no-untyped-def]
        written = []
        for d in drafts:
            case, event = new_case(d, rt.cases.place(d.grid_code, session), actor="受理窗口", now=d.received_at, rules=rt.rules)
            written.append(cases.add(session, case, event))
        return written

    return len(rt.cases.write(work))


def inject_burst(rt: Runtime, now: datetime, *, township: str, size: int = 8, category: Category = Category.land) -> list[int]:
    """``size`` cases of one category in one township's grids over the last hours before ``now``."""
    grids = [g for g in GRID_CODES if g.startswith(township)]
    ids = []
    for k in range(size):
        case, _ = rt.cases.submit(draft(10_000 + k, now - timedelta(minutes=30 + 20 * k), category=category,
                                        grid_code=grids[k % len(grids)], external_ref=f"burst-{township}-{k}"),
                                  actor="受理窗口", now=now)
        ids.append(case.id)
    return ids
