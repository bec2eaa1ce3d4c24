"""Every DESIGN.md figure for one area and period, from the Redis aggregates.

The period figures (received, closed, on-time, tiers, satisfaction) sum the area's per-day
counters; open, overdue and red come from the per-area open counters and deadline sets at
``now``. Tests hold these equal to SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

import redis

from dashboard.domain.figures import InstantCounts, PeriodCounts
from dashboard.domain.periods import Period, day_key
from dashboard.domain.rules import Rules
from dashboard.screens.wall_snapshot import deadline_bounds
from data_access import aggregates

PERIOD_FIELDS = [f.name for f in fields(PeriodCounts)]


def period_counts(days: Mapping[str, Mapping[str, int]], area: str, period: Period) -> PeriodCounts:
    keys = [day_key(d) for d in period.days()]
    return PeriodCounts(**{n: sum(days.get(k, {}).get(f"{area}:{n}", 0) for k in keys) for n in PERIOD_FIELDS})


def same_period_last_year(period: Period) -> Period:
    def back(day: date) -> date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:  # 29 February
            return day.replace(year=day.year - 1, day=28)

    return Period(back(period.first), back(period.last))


def previous_period(period: Period) -> Period:
    length = (period.last - period.first).days + 1
    return Period(period.first - timedelta(days=length), period.first - timedelta(days=1))


@dataclass(frozen=True)
class AreaFigures:
    area: str
    period: Period
    current: PeriodCounts
    previous: PeriodCounts
    last_year: PeriodCounts
    now: InstantCounts

    def as_json(self) -> dict[str, object]:
        def block(counts: PeriodCounts, period: Period) -> dict[str, object]:
            return {
                "from": period.first.isoformat(), "to": period.last.isoformat(),
                **{n: getattr(counts, n) for n in PERIOD_FIELDS},
                "closure_rate": counts.closure_rate, "on_time_rate": counts.on_time_rate,
                "satisfaction_rate": counts.satisfaction_rate, "resolved_at_tier": counts.tier_shares(),
            }

        return {
            "area": self.area,
            "period": block(self.current, self.period),
            "previous_period": block(self.previous, previous_period(self.period)),
            "same_period_last_year": block(self.last_year, same_period_last_year(self.period)),
            "now": {"open": self.now.open, "overdue": self.now.overdue, "red": self.now.red},
        }


def period_blocks(client: redis.Redis, county: str, area: str, period: Period) -> tuple[PeriodCounts, PeriodCounts, PeriodCounts]:
    """``area``'s counts over ``period``, the previous period and the same period last year."""
    periods = [period, previous_period(period), same_period_last_year(period)]
    wanted = sorted({day_key(d) for p in periods for d in p.days()})
    days = aggregates.read_area_days(client, county, area, wanted, PERIOD_FIELDS)
    current, previous, last_year = (period_counts(days, area, p) for p in periods)
    return current, previous, last_year


def instant_counts(client: redis.Redis, county: str, area: str, *, now: datetime, rules: Rules) -> InstantCounts:
    """``area``'s open, overdue and red cases at exactly ``now``, from the open counters and deadline sets."""
    now_us, long_us, soon_us = deadline_bounds(now, rules)
    state = aggregates.read_state(client, county, [], now_us=now_us, long_us=long_us, soon_us=soon_us)
    if area not in state.codes:
        return InstantCounts()
    i = state.codes.index(area)
    return InstantCounts(int(state.open[i, 0]), int(state.clock[i, 0]), int(state.open[i, 1]))


def area_figures(client: redis.Redis, county: str, area: str, period: Period, *, now: datetime, rules: Rules) -> AreaFigures:
    current, previous, last_year = period_blocks(client, county, area, period)
    instant = instant_counts(client, county, area, now=now, rules=rules)
    return AreaFigures(area, period, current, previous, last_year, instant)
