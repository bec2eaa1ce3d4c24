"""Rebuild the Redis aggregates from SQL, and check that they still equal SQL."""

from __future__ import annotations

from dataclasses import dataclass, fields

import redis
from sqlalchemy.orm import Session

from dashboard.contributions import BREAKDOWN_LEVELS, case_facts, contribution
from dashboard.alerts import fact_reasons
from dashboard.figures import PeriodCounts
from dashboard.rules import Rules
from data_access import aggregates, cases, figure_queries
from data_access.aggregates import RebuildReport


def rebuild(session: Session, client: redis.Redis, county: str, rules: Rules) -> RebuildReport:
    rows = ((case.id, contribution(case, rules)) for case in cases.iter_county_cases(session, county))
    return aggregates.rebuild(client, county, rows)


@dataclass(frozen=True)
class Difference:
    key: str
    sql: object
    redis: object

    def __str__(self) -> str:
        return f"{self.key}: SQL {self.sql!r} ≠ Redis {self.redis!r}"


def reconcile(session: Session, client: redis.Redis, county: str, rules: Rules) -> list[Difference]:
    """Every place where Redis disagrees with a plain SQL query; empty means exact."""
    cached = aggregates.read_all_days(client, county)
    expected: dict[tuple[str, str], int] = {}
    for level in figure_queries.AREA_COLUMNS:
        for (day, area), counts in figure_queries.daily_counts_by_area(session, county_code=county, level=level).items():
            for f in fields(PeriodCounts):
                expected[(day, f"{area}:{f.name}")] = getattr(counts, f.name)
    for level in BREAKDOWN_LEVELS:
        for field in ("category", "source"):
            for (day, area, value), n in figure_queries.breakdown_by_day(
                session, county_code=county, level=level, field=field
            ).items():
                expected[(day, f"{area}:{field}.{value}")] = n
    found = {(day, name): value for day, counters in cached.items() for name, value in counters.items()}
    diffs = [
        Difference(f"day {day} {name}", expected.get((day, name), 0), found.get((day, name), 0))
        for day, name in sorted(expected.keys() | found.keys())
        if expected.get((day, name), 0) != found.get((day, name), 0)
    ]
    open_cached = aggregates.read_open(client, county)
    for case in cases.open_cases(session, county):
        entry = open_cached.pop(case.id, None)
        facts = case_facts(case)
        want = (case.grid_code, case.due_at.timestamp(), tuple(fact_reasons(facts, rules)), not facts.awaiting_assessment)
        got = (entry.areas[3], entry.due_epoch, entry.reasons, entry.warn_early) if entry else None
        if got != want:
            diffs.append(Difference(f"open case {case.id}", want, got))
    diffs.extend(Difference(f"open case {case_id}", None, "cached as open") for case_id in open_cached)
    return diffs
