"""What the wall page and its live state agree on: the KPI tiles (their names, which carry a
change line, and the text each shows) and the fixed size of the side panels.

The page (``layouts``) draws these elements empty; the live state (``dashboard.live``) fills them
by id, so both read the names and sizes from here.
"""

from __future__ import annotations

from dashboard.domain.figure_text import count_text, rate_text
from dashboard.domain.figures import WallFigures

KPI_NAMES = ("received_today", "closed_today", "open", "overdue", "red_alerts", "received_period",
             "closure_rate_30d", "satisfaction_rate")
"""The KPI row, left to right; each name is also its label and definition key."""
WITH_CHANGE = frozenset({"received_period", "closure_rate_30d", "satisfaction_rate"})
"""The tiles with a change line (环比, 同比) under their number."""

TICKER_ROWS = 6
"""Newest alerts on the ticker."""
TREND_DAYS = 30
"""Days on the trend panel."""
TREND_BARS = "trend-bars"
"""The box of the trend's bars: it holds the busiest day's count for the stylesheet."""


def kpi_values(figures: WallFigures) -> dict[str, str]:
    """The text each tile shows; a rate with no denominator shows a dash, never 0%.

    The period tiles with a change line (received, satisfaction) are filled from the panel cells.
    """
    rate = (figures.period or figures.last_30_days).closure_rate
    return {
        "received_today": count_text(figures.today.received),
        "closed_today": count_text(figures.today.closed),
        "open": count_text(figures.now.open),
        "overdue": count_text(figures.now.overdue),
        "closure_rate_30d": rate_text(rate),
        "red_alerts": count_text(figures.now.red),
    }
