"""Figure definitions (DESIGN.md "Figures") as pure arithmetic over counts.

Counting happens in SQL (``data_access.figure_queries``) or in Redis aggregates
(``data_access.aggregates``); both feed these functions so a figure has one formula.
"""

from __future__ import annotations

from dataclasses import dataclass


def percent(part: int, whole: int) -> float | None:
    """``part / whole`` as a percentage with two decimals; ``None`` when nothing to divide."""
    if whole <= 0:
        return None
    return round(100.0 * part / whole, 2)


@dataclass(frozen=True)
class PeriodCounts:
    """Counts over cases received in a period (closed, on-time etc. are "of those")."""

    received: int = 0
    closed: int = 0
    closed_on_time: int = 0
    closed_village: int = 0
    closed_township: int = 0
    closed_county: int = 0
    followed_up: int = 0
    satisfied: int = 0

    @property
    def closure_rate(self) -> float | None:
        return percent(self.closed, self.received)

    @property
    def on_time_rate(self) -> float | None:
        return percent(self.closed_on_time, self.closed)

    @property
    def satisfaction_rate(self) -> float | None:
        return percent(self.satisfied, self.followed_up)

    def tier_shares(self) -> dict[str, float | None]:
        """The "小事不出村" pyramid: share of resolved cases by resolving tier."""
        return {
            "village": percent(self.closed_village, self.closed),
            "township": percent(self.closed_township, self.closed),
            "county": percent(self.closed_county, self.closed),
        }


@dataclass(frozen=True)
class InstantCounts:
    """Counts over open cases at one instant."""

    open: int = 0
    overdue: int = 0
    red: int = 0


@dataclass(frozen=True)
class WallFigures:
    """The KPI row of the wall screen."""

    today: PeriodCounts
    last_30_days: PeriodCounts
    now: InstantCounts
    period: PeriodCounts | None = None
    """The screen's own closure-rate period (``?days=N``); ``None`` means the 30 days."""
    period_days: int = 30
