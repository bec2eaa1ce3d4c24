"""The wall's side panels as "cells": element id → the props it shows.

Breakdowns, the 30-day trend, the tier pyramid, the township league table, the alert ticker and
the change figures (环比/同比) are computed here as pure functions of counts that
``dashboard.screens.panel_service`` reads. A cell is an element id in ``layouts.wall_panels`` and the
props (text, bar width, class) that element shows; live screens receive only changed cells.
Ids that start with ``_`` are data for scripts (the hotspot tour), not elements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from dashboard.domain.figures import PeriodCounts
from dashboard.domain.periods import Period, named_period
from dashboard.domain.periods import LOCAL_TZ
from dashboard.domain.vocabulary import AlertLevel, Category, Source, Tier
from dashboard.domain.labels import label, reasons_text

Cells = dict[str, dict[str, object]]

TICKER_ROWS = 6
TREND_DAYS = 30
TOUR_STOPS = 3
MAX_DAYS = 366 * 3
WALL_RANGES = {"today": 1, "7d": 7, "30d": 30}
"""The tablet's trailing ranges a wall can follow by ``?range=`` (``ytd`` as well), as days."""
_SPAN = re.compile(r"(\d{4}-\d\d-\d\d)_(\d{4}-\d\d-\d\d)")


@dataclass(frozen=True)
class ScreenPeriod:
    """The period a wall's period figures cover: the last ``days`` days, the year to date, or a
    fixed span. Its ``key`` travels in the URL of the live API (``30d``, ``ytd``,
    ``2025-01-01_2025-12-31``); the dates are resolved at each refresh, so a trailing period moves
    on at midnight."""

    days: int = 30
    ytd: bool = False
    span: tuple[date, date] | None = None

    @property
    def key(self) -> str:
        if self.span:
            return f"{self.span[0].isoformat()}_{self.span[1].isoformat()}"
        return "ytd" if self.ytd else f"{self.days}d"

    @classmethod
    def from_key(cls, key: str) -> ScreenPeriod:
        """Raises ``ValueError`` for anything but a key this class writes."""
        if key == "ytd":
            return cls(ytd=True)
        if re.fullmatch(r"\d{1,4}d", key) and 1 <= int(key[:-1]) <= MAX_DAYS:
            return cls(days=int(key[:-1]))
        found = _SPAN.fullmatch(key)
        if found:
            first, last = date.fromisoformat(found.group(1)), date.fromisoformat(found.group(2))
            if first <= last and (last - first).days <= MAX_DAYS:
                return cls(span=(first, last))
        raise ValueError(f"not a screen period: {key!r}")

    def period(self, today: date) -> Period:
        """The local days covered today; a span must end by today."""
        if self.span:
            return named_period("custom", today, first=self.span[0], last=self.span[1])
        if self.ytd:
            return named_period("ytd", today)
        return Period.trailing(today, self.days)

    def words(self, lang: str) -> dict[str, str]:
        """``{period}`` (short, for titles) and ``{period_long}`` for the labels that name the period."""
        if self.span:
            text = label("span.custom", lang).format(first=self.span[0].isoformat(), last=self.span[1].isoformat())
            return {"period": text, "period_long": text}
        if self.ytd:
            return {"period": label("span.ytd", lang), "period_long": label("span.ytd", lang)}
        if self.days == 1:
            return {"period": label("span.today", lang), "period_long": label("span.today", lang)}
        return {"period": label("span.days", lang).format(days=self.days),
                "period_long": label("span.days_long", lang).format(days=self.days)}


@dataclass(frozen=True)
class AreaRow:
    """One area's line: a township in the wall's league table, a child area on the tablet."""

    code: str
    name: str
    counts: PeriodCounts
    open: int
    overdue: int
    red: int
    alert: AlertLevel | None


@dataclass(frozen=True)
class TickerItem:
    """A newest alert as the wall may show it: place, type and level, never a person."""

    case_id: int
    at: datetime
    level: AlertLevel
    place: str
    category: Category
    people: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class PanelInputs:
    area: str
    period: Period
    today: PeriodCounts
    current: PeriodCounts
    previous: PeriodCounts
    last_year: PeriodCounts
    categories: dict[str, int]
    sources: dict[str, int]
    trend: list[tuple[date, PeriodCounts]]
    townships: list[AreaRow] = field(default_factory=list)
    ticker: list[TickerItem] = field(default_factory=list)
    focus: str | None = None
    """A township the screen follows (``?township=``): its league row is highlighted."""


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
    if value is None:
        return {"children": "—", "className": "chg chg-flat"}
    arrow, cls = ("↑", "chg-up") if value > 0 else ("↓", "chg-down") if value < 0 else ("→", "chg-flat")
    return {"children": f"{arrow}{abs(value):.{1 if unit == '%' else 2}f}{unit}", "className": f"chg {cls}"}


def _rate_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.2f}%"


def change_cells(inputs: PanelInputs) -> Cells:
    """环比 (previous period) and 同比 (same period last year) under the period KPIs."""
    now, prev, year = inputs.current, inputs.previous, inputs.last_year
    pairs = {
        "received_period": (relative_change(now.received, prev.received), relative_change(now.received, year.received), "%"),
        "closure_rate_30d": (point_change(now.closure_rate, prev.closure_rate),
                             point_change(now.closure_rate, year.closure_rate), "pt"),
        "satisfaction_rate": (point_change(now.satisfaction_rate, prev.satisfaction_rate),
                              point_change(now.satisfaction_rate, year.satisfaction_rate), "pt"),
    }
    cells: Cells = {}
    for name, (mom, yoy, unit) in pairs.items():
        cells[f"chg-{name}-mom"] = change_cell(mom, unit)
        cells[f"chg-{name}-yoy"] = change_cell(yoy, unit)
    cells["kpi-received_period"] = {"children": f"{now.received:,}"}
    cells["kpi-satisfaction_rate"] = {"children": _rate_text(now.satisfaction_rate)}
    return cells


def _bars(prefix: str, counts: dict[str, int], names: list[str]) -> Cells:
    top = max((counts.get(n, 0) for n in names), default=0)
    cells: Cells = {}
    for name in names:
        n = counts.get(name, 0)
        width = 0.0 if top == 0 else round(100.0 * n / top, 1)
        cells[f"{prefix}-{name}-bar"] = {"style": {"width": f"{width}%"}}
        cells[f"{prefix}-{name}-n"] = {"children": f"{n:,}"}
    return cells


def breakdown_cells(inputs: PanelInputs) -> Cells:
    return {**_bars("cat", inputs.categories, [c.value for c in Category]),
            **_bars("src", inputs.sources, [s.value for s in Source])}


def pyramid_cells(counts: PeriodCounts) -> Cells:
    """小事不出村: shares of resolved cases by the tier that resolved them."""
    shares = counts.tier_shares()
    cells: Cells = {}
    for tier in (Tier.village, Tier.township, Tier.county):
        share = shares[tier.value]
        cells[f"tier-{tier.value}-bar"] = {"style": {"width": f"{share or 0:.1f}%"}}
        cells[f"tier-{tier.value}-pct"] = {"children": _rate_text(share)}
    closed = {Tier.village: counts.closed_village, Tier.township: counts.closed_township, Tier.county: counts.closed_county}
    for tier, n in closed.items():
        cells[f"tier-{tier.value}-n"] = {"children": f"{n:,}"}
    return cells


TREND_BARS = "trend-bars"
"""The box of the trend's bars: it holds the busiest day's count for the stylesheet."""


def trend_cells(trend: list[tuple[date, PeriodCounts]], lang: str) -> Cells:
    """Received and closed-of-those per day; bar heights are relative to the busiest day.

    Each bar carries its own count (``--v``) and the bars' box the busiest day's (``--max``); the
    stylesheet divides them. When today becomes the busiest day, a change then resends one number
    instead of every bar's height (30 cells, 2.3 KB of a 3 KB update).
    """
    top = max((c.received for _, c in trend), default=0)
    cells: Cells = {TREND_BARS: {"style": {"--max": max(top, 1)}}}
    for i, (day, counts) in enumerate(trend[-TREND_DAYS:]):
        closed_share = 0.0 if counts.received == 0 else round(100.0 * counts.closed / counts.received, 1)
        tip = label("trend.tip", lang).format(day=day.strftime("%m-%d"), received=counts.received, closed=counts.closed)
        cells[f"trend-{i}"] = {"style": {"--v": counts.received}, "title": tip}
        cells[f"trend-{i}-closed"] = {"style": {"height": f"{closed_share}%"}}
    if trend:
        cells["trend-first"] = {"children": trend[0][0].strftime("%m-%d")}
        cells["trend-last"] = {"children": trend[-1][0].strftime("%m-%d")}
        cells["trend-max"] = {"children": f"{top:,}"}
    return cells


def league_order(rows: list[AreaRow]) -> list[AreaRow]:
    """Best first: closure rate, then fewer overdue, then fewer red; no cases sorts last."""
    return sorted(rows, key=lambda r: (r.counts.closure_rate is None, -(r.counts.closure_rate or 0.0), r.overdue, r.red, r.code))


def worst_first(rows: list[AreaRow]) -> list[AreaRow]:
    """The hotspot tour's stops: townships with red or overdue cases, worst first."""
    hot = [r for r in rows if r.red or r.overdue]
    return sorted(hot, key=lambda r: (-r.red, -r.overdue, -r.open, r.code))[:TOUR_STOPS]


def league_cells(rows: list[AreaRow], lang: str, focus: str | None = None) -> Cells:
    cells: Cells = {}
    for i, row in enumerate(league_order(rows)):
        level = row.alert.value if row.alert else "none"
        cells[f"league-{i}"] = {"className": "league-row" + (" league-focus" if row.code == focus else "")}
        cells[f"league-{i}-name"] = {"children": row.name}
        cells[f"league-{i}-dot"] = {"className": f"dot dot-{level}", "title": label(f"level.{level}", lang)}
        cells[f"league-{i}-rate"] = {"children": _rate_text(row.counts.closure_rate)}
        cells[f"league-{i}-overdue"] = {"children": f"{row.overdue:,}",
                                        "className": "num" + (" num-warn" if row.overdue else "")}
        cells[f"league-{i}-red"] = {"children": f"{row.red:,}", "className": "num" + (" num-red" if row.red else "")}
    stops = worst_first(rows)
    cells["_tour"] = {"order": [r.code for r in stops], "captions": {
        r.code: label("tour.caption", lang).format(name=r.name, red=r.red, overdue=r.overdue, open=r.open,
                                                    rate=_rate_text(r.counts.closure_rate))
        for r in stops}}
    return cells


def ticker_cells(items: list[TickerItem], lang: str) -> Cells:
    cells: Cells = {}
    for i in range(TICKER_ROWS):
        item = items[i] if i < len(items) else None
        if item is None:
            cells[f"ticker-{i}"] = {"className": "ticker-row ticker-empty"}
            for part in ("time", "level", "place", "what"):
                cells[f"ticker-{i}-{part}"] = {"children": ""}
            continue
        reasons = reasons_text(item.reasons, lang)
        what = label("ticker.what", lang).format(category=label(f"category.{item.category.value}", lang),
                                                 people=item.people)
        cells[f"ticker-{i}"] = {"className": f"ticker-row ticker-{item.level.value}"}
        cells[f"ticker-{i}-time"] = {"children": item.at.astimezone(LOCAL_TZ).strftime("%H:%M")}
        cells[f"ticker-{i}-level"] = {"children": label(f"level.{item.level.value}", lang),
                                      "className": f"chip chip-{item.level.value}"}
        cells[f"ticker-{i}-place"] = {"children": item.place}
        cells[f"ticker-{i}-what"] = {"children": f"{what} · {reasons}" if reasons else what}
    return cells


def panel_cells(inputs: PanelInputs, lang: str) -> Cells:
    """Every panel cell of one wall state."""
    return {
        **change_cells(inputs),
        **breakdown_cells(inputs),
        **pyramid_cells(inputs.current),
        **trend_cells(inputs.trend, lang),
        **league_cells(inputs.townships, lang, inputs.focus),
        **ticker_cells(inputs.ticker, lang),
    }

