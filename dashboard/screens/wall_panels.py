"""The wall's side panels as "cells": element id → the props it shows.

Breakdowns, the 30-day trend, the tier pyramid, the township league table, the alert ticker and
the change figures (环比/同比) are computed here as pure functions of counts that
``dashboard.screens.panel_service`` reads. A cell is an element id that the wall page draws
(``layouts.wall_panels``) and the props (text, bar width, class) that element shows; live screens
receive only changed cells. The panels' sizes are ``dashboard.domain.wall_values``'.
Ids that start with ``_`` are data for scripts (the hotspot tour), not elements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from dashboard.domain.areas import AreaRow
from dashboard.domain.figure_text import change_cell, count_text, point_change, rate_text, relative_change
from dashboard.domain.figures import PeriodCounts
from dashboard.domain.labels import label, reasons_text
from dashboard.domain.periods import LOCAL_TZ, Period
from dashboard.domain.vocabulary import AlertLevel, Category, Source, Tier
from dashboard.domain.wall_values import TICKER_ROWS, TREND_BARS, TREND_DAYS
from dashboard.domain.warning_view import WarningView
from dashboard.warnings.cells import warning_cells

Cells = dict[str, dict[str, object]]

TOUR_STOPS = 3


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
    repeats: int | None = None
    """Received − matters over ``current`` (``data_access.matters.repeats``); ``None``: not read."""
    warnings: list[WarningView] = field(default_factory=list)
    """Open early warnings inside ``area``, least probable first (``dashboard.warnings.service``)."""


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
    cells["kpi-received_period"] = {"children": count_text(now.received)}
    cells["kpi-satisfaction_rate"] = {"children": rate_text(now.satisfaction_rate)}
    return cells


def _bars(prefix: str, counts: dict[str, int], names: list[str]) -> Cells:
    top = max((counts.get(n, 0) for n in names), default=0)
    cells: Cells = {}
    for name in names:
        n = counts.get(name, 0)
        width = 0.0 if top == 0 else round(100.0 * n / top, 1)
        cells[f"{prefix}-{name}-bar"] = {"style": {"width": f"{width}%"}}
        cells[f"{prefix}-{name}-n"] = {"children": count_text(n)}
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
        cells[f"tier-{tier.value}-pct"] = {"children": rate_text(share)}
    closed = {Tier.village: counts.closed_village, Tier.township: counts.closed_township, Tier.county: counts.closed_county}
    for tier, n in closed.items():
        cells[f"tier-{tier.value}-n"] = {"children": count_text(n)}
    return cells


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
        cells["trend-max"] = {"children": count_text(top)}
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
        cells[f"league-{i}-rate"] = {"children": rate_text(row.counts.closure_rate)}
        cells[f"league-{i}-overdue"] = {"children": count_text(row.overdue),
                                        "className": "num" + (" num-warn" if row.overdue else "")}
        cells[f"league-{i}-red"] = {"children": count_text(row.red), "className": "num" + (" num-red" if row.red else "")}
    stops = worst_first(rows)
    cells["_tour"] = {"order": [r.code for r in stops], "captions": {
        r.code: label("tour.caption", lang).format(name=r.name, red=r.red, overdue=r.overdue, open=r.open,
                                                    rate=rate_text(r.counts.closure_rate))
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


def matters_cells(inputs: PanelInputs, lang: str) -> Cells:
    """The line under the period's received tile: distinct matters and repeats (DESIGN.md)."""
    if inputs.repeats is None:
        return {}
    received = inputs.current.received
    return {"matters-line": {"children": label("matters_line", lang).format(
        matters=count_text(received - inputs.repeats), repeats=count_text(inputs.repeats))}}


def panel_cells(inputs: PanelInputs, lang: str) -> Cells:
    """Every panel cell of one wall state."""
    return {
        **change_cells(inputs),
        **matters_cells(inputs, lang),
        **breakdown_cells(inputs),
        **pyramid_cells(inputs.current),
        **trend_cells(inputs.trend, lang),
        **league_cells(inputs.townships, lang, inputs.focus),
        **ticker_cells(inputs.ticker, lang),
        **warning_cells(inputs.warnings, lang),
    }

