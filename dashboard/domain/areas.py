"""Areas as screens name and rank them: a reference on the drill-down path (province → city →
county → township → village → grid) and one area's line of figures in a league or a list of child
areas."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.domain.figures import PeriodCounts
from dashboard.domain.vocabulary import AlertLevel

CHILD_LEVEL = {"province": "city", "city": "county", "county": "township", "township": "village", "village": "grid"}
"""The level one below each level; a grid has none."""


@dataclass(frozen=True)
class AreaRef:
    code: str
    name: str
    level: str
    """province, city, county, township, village or grid."""


@dataclass(frozen=True)
class AreaRow:
    """One area's line: a row of a league table (the townships of a county, the counties of a city,
    the cities of a province), a child area on the tablet."""

    code: str
    name: str
    counts: PeriodCounts
    open: int
    overdue: int
    red: int
    alert: AlertLevel | None
    kind: str | None = None
    """The unit's kind as onboarded (subdistrict, town, township, other; community, village,
    other); None for a grid. Named for the screen by `area_kinds.kind_name`."""
