"""The matters figure (DESIGN.md "Figures": 事项) beside the figures of one area and period.

Received comes from the Redis day counters like every period figure; repeats (received −
matters) are read from SQL, because whether a case repeats another depends on the period asked
(a matter with a case on Monday and one on Friday has a repeat in the week, none in either day),
so no per-day counter can hold it. The read is of the small ``matter_member`` table joined to the
period's cases (``data_access.matters.repeats``); matters = received − repeats.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from dashboard.domain.periods import Period, day_start
from dashboard.screens.area_figures import previous_period, same_period_last_year
from data_access import matters

BLOCKS = {"period": lambda p: p, "previous_period": previous_period, "same_period_last_year": same_period_last_year}


def repeats_in(session: Session, county: str, area: str, period: Period) -> int:
    level = matters.area_level(session, county, area)
    return matters.repeats(session, county_code=county, start=day_start(period.first),
                           end=day_start(period.last + timedelta(days=1)),
                           area=None if level in (None, "county") else (level, area))


def add_matters(session: Session, figures: dict[str, object], *, county: str, area: str, period: Period) -> dict[str, object]:
    """``AreaFigures.as_json()`` with ``matters`` and ``repeats`` in each period block."""
    for name, shift in BLOCKS.items():
        block = figures[name]
        assert isinstance(block, dict)
        repeats = repeats_in(session, county, area, shift(period))
        block["repeats"] = repeats
        block["matters"] = int(block["received"]) - repeats
    return figures
