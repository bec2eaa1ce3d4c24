"""KPI tiles: a label, a big number, and the figure's definition on hover or tap."""

from __future__ import annotations

from dash import html

from dashboard.figures import WallFigures
from layouts import ids
from layouts.labels import definition, label

KPI_NAMES = ("received_today", "closed_today", "open", "overdue", "closure_rate_30d", "red_alerts")


def kpi_values(figures: WallFigures) -> dict[str, str]:
    """The text each tile shows; a rate with no denominator shows a dash, never 0%."""
    rate = (figures.period or figures.last_30_days).closure_rate
    return {
        "received_today": f"{figures.today.received:,}",
        "closed_today": f"{figures.today.closed:,}",
        "open": f"{figures.now.open:,}",
        "overdue": f"{figures.now.overdue:,}",
        "closure_rate_30d": "—" if rate is None else f"{rate:.2f}%",
        "red_alerts": f"{figures.now.red:,}",
    }


def kpi_tile(name: str, value: str, lang: str, *, days: int = 30) -> html.Div:
    return html.Div(
        className=f"kpi kpi-{name}",
        title=definition(name, lang).format(days=days),
        tabIndex="0",
        children=[html.Div(label(name, lang).format(days=days), className="kpi-label"),
                  html.Div(value, id=ids.kpi(name), className="kpi-value")],
    )


def kpi_row(values: dict[str, str], lang: str, *, days: int = 30) -> html.Div:
    return html.Div(id=ids.KPIS, className="kpi-row",
                    children=[kpi_tile(n, values.get(n, "—"), lang, days=days) for n in KPI_NAMES])
