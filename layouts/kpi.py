"""KPI tiles: a label, a big number, the change against the previous period and last year (环比,
同比) where the figure has one, and the figure's definition on hover or tap."""

from __future__ import annotations

from dash import html

from dashboard.domain.figures import WallFigures
from layouts import ids
from dashboard.domain.labels import definition, label

KPI_NAMES = ("received_today", "closed_today", "open", "overdue", "red_alerts", "received_period",
             "closure_rate_30d", "satisfaction_rate")
WITH_CHANGE = frozenset({"received_period", "closure_rate_30d", "satisfaction_rate"})


def kpi_values(figures: WallFigures) -> dict[str, str]:
    """The text each tile shows; a rate with no denominator shows a dash, never 0%.

    The period tiles with a change line (received, satisfaction) are filled from the panel cells.
    """
    rate = (figures.period or figures.last_30_days).closure_rate
    return {
        "received_today": f"{figures.today.received:,}",
        "closed_today": f"{figures.today.closed:,}",
        "open": f"{figures.now.open:,}",
        "overdue": f"{figures.now.overdue:,}",
        "closure_rate_30d": "—" if rate is None else f"{rate:.2f}%",
        "red_alerts": f"{figures.now.red:,}",
    }


def change_line(name: str, lang: str) -> html.Div:
    return html.Div(className="kpi-change", children=[
        html.Span(label("chg.mom", lang), className="chg-label"), html.Span("—", id=f"chg-{name}-mom", className="chg"),
        html.Span(label("chg.yoy", lang), className="chg-label"), html.Span("—", id=f"chg-{name}-yoy", className="chg"),
    ])


def kpi_tile(name: str, value: str, lang: str, *, words: dict[str, str]) -> html.Div:
    """``words`` name the screen's period (``ScreenPeriod.words``) in its labels and definitions."""
    children: list[object] = [html.Div(label(name, lang).format(**words), className="kpi-label"),
                              html.Div(value, id=ids.kpi(name), className="kpi-value")]
    if name in WITH_CHANGE:
        children.append(change_line(name, lang))
    return html.Div(className=f"kpi kpi-{name}", title=definition(name, lang).format(**words), tabIndex="0",
                    children=children)


def kpi_row(values: dict[str, str], lang: str, *, words: dict[str, str]) -> html.Div:
    return html.Div(id=ids.KPIS, className="kpi-row",
                    children=[kpi_tile(n, values.get(n, "—"), lang, words=words) for n in KPI_NAMES])
