"""How a figure and its change (环比, 同比) read on every screen.

One formula and one text for each, shared by the wall's live cells, its KPI tiles and the tablet:
counts with thousands separators; rates with two decimals, or a dash when there is no denominator
(never 0%); a change of a count in percent, of a rate in percentage points, with an arrow and a
colour class.
"""

from __future__ import annotations

DASH = "—"
"""What a figure with nothing to show reads as."""


def count_text(value: int) -> str:
    return f"{value:,}"


def rate_text(rate: float | None) -> str:
    return DASH if rate is None else f"{rate:.2f}%"


def relative_change(now: int, before: int) -> float | None:
    """Change of a count in percent; ``None`` when there is nothing to compare with."""
    if before <= 0:
        return None
    return round(100.0 * (now - before) / before, 1)


def point_change(now: float | None, before: float | None) -> float | None:
    """Change of a rate in percentage points."""
    if now is None or before is None:
        return None
    return round(now - before, 2)


def change_cell(value: float | None, unit: str) -> dict[str, object]:
    """The props a change shows with: ``↑10.0%`` (``unit`` ``"%"``, one decimal) or ``↓0.25pt``
    (``"pt"``, two decimals) and the class that colours it; a dash when there is no change to tell."""
    if value is None:
        return {"children": DASH, "className": "chg chg-flat"}
    arrow, cls = ("↑", "chg-up") if value > 0 else ("↓", "chg-down") if value < 0 else ("→", "chg-flat")
    return {"children": f"{arrow}{abs(value):.{1 if unit == '%' else 2}f}{unit}", "className": f"chg {cls}"}
