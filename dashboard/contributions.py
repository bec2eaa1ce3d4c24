"""What one case adds to the cached aggregates, as a pure function of its row.

The cache stores each case's last contribution; applying a case means applying the difference
between the new and the stored contribution. Applying the same state twice therefore changes
nothing, and a lost update is repaired by the next one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import orjson

from dashboard.alerts import Alert, CaseFacts, alert_from_reasons, fact_reasons
from dashboard.periods import day_key, local_date
from dashboard.rules import Rules
from dashboard.vocabulary import AlertLevel

BREAKDOWN_LEVELS = ("county", "township")
"""Category and source breakdowns are kept only for these areas: grids would multiply keys."""


class CaseRow(Protocol):
    id: int
    status: str
    county_code: str
    township_code: str
    village_code: str
    grid_code: str
    category: str
    source: str
    received_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    resolved_tier: str | None
    satisfaction: str | None
    people_involved: int
    risk_extreme: bool
    risk_mass_incident: bool
    beyond_county_petition: bool
    repeat_petition: bool
    escalated: bool


def case_facts(row: CaseRow) -> CaseFacts:
    return CaseFacts(
        people_involved=row.people_involved,
        risk_extreme=row.risk_extreme,
        risk_mass_incident=row.risk_mass_incident,
        beyond_county_petition=row.beyond_county_petition,
        repeat_petition=row.repeat_petition,
        escalated=row.escalated,
        due_at=row.due_at,
        closed=row.resolved_at is not None,
        awaiting_assessment=row.status == "received",
    )


def _sized(raw: bytes) -> bytes:
    """A right-sized copy: orjson 3.13 returns buffers of ~16 KB for small documents, and a
    rebuild keeps one per case (measured: 200 k kept documents, 797 MB → 41 MB)."""
    return bytes(memoryview(raw))


@dataclass(frozen=True)
class OpenEntry:
    """An open case as the live screens need it: where, deadline, and its fact-based reasons."""

    areas: tuple[str, str, str, str]
    due_epoch: float
    reasons: tuple[tuple[AlertLevel, str], ...]
    warn_early: bool = True

    def to_json(self) -> bytes:
        return _sized(orjson.dumps({"a": self.areas, "d": self.due_epoch, "r": self.reasons, "w": self.warn_early}))

    @classmethod
    def from_json(cls, raw: bytes | str) -> OpenEntry:
        data = orjson.loads(raw)
        reasons = tuple((AlertLevel(level), code) for level, code in data["r"])
        return cls(tuple(data["a"]), float(data["d"]), reasons, bool(data["w"]))  # type: ignore[arg-type]

    def alert(self, now: datetime, rules: Rules) -> Alert:
        """This open case's level at ``now``: stored facts plus the clock."""
        due = datetime.fromtimestamp(self.due_epoch, tz=now.tzinfo)
        return alert_from_reasons(self.reasons, due_at=due, now=now, rules=rules, warn_early=self.warn_early)


@dataclass(frozen=True)
class Contribution:
    day: str
    counters: dict[str, int]
    """``"{area}:{figure}"`` → count on ``day``."""
    open: OpenEntry | None

    def to_json(self) -> bytes:
        return _sized(orjson.dumps({"d": self.day, "c": self.counters,
                                    "o": self.open.to_json().decode() if self.open else None}))

    @classmethod
    def from_json(cls, raw: bytes | str) -> Contribution:
        data = orjson.loads(raw)
        return cls(data["d"], data["c"], OpenEntry.from_json(data["o"]) if data["o"] else None)


def figure_flags(row: CaseRow) -> dict[str, int]:
    """The per-case figure fields, named as in ``PeriodCounts``."""
    closed = row.resolved_at is not None
    return {
        "received": 1,
        "closed": int(closed),
        "closed_on_time": int(closed and row.resolved_at <= row.due_at),  # type: ignore[operator]
        "closed_village": int(closed and row.resolved_tier == "village"),
        "closed_township": int(closed and row.resolved_tier == "township"),
        "closed_county": int(closed and row.resolved_tier == "county"),
        "followed_up": int(row.satisfaction is not None),
        "satisfied": int(row.satisfaction == "satisfied"),
    }


def contribution(row: CaseRow, rules: Rules) -> Contribution:
    areas = (row.county_code, row.township_code, row.village_code, row.grid_code)
    counters: dict[str, int] = {}
    for name, value in figure_flags(row).items():
        if value:
            for area in areas:
                counters[f"{area}:{name}"] = value
    for area in areas[: len(BREAKDOWN_LEVELS)]:
        counters[f"{area}:category.{row.category}"] = 1
        counters[f"{area}:source.{row.source}"] = 1
    entry = None
    if row.resolved_at is None:
        facts = case_facts(row)
        entry = OpenEntry(areas, row.due_at.timestamp(), tuple(fact_reasons(facts, rules)), not facts.awaiting_assessment)
    return Contribution(day_key(local_date(row.received_at)), counters, entry)


def delta(old: Contribution | None, new: Contribution) -> dict[str, Counter[str]]:
    """Per day, the counter changes that turn ``old`` into ``new`` (zeros dropped)."""
    changes: dict[str, Counter[str]] = {}
    if old is not None:
        changes.setdefault(old.day, Counter()).subtract(old.counters)
    changes.setdefault(new.day, Counter()).update(new.counters)
    return {day: Counter({k: v for k, v in c.items() if v}) for day, c in changes.items() if any(c.values())}
