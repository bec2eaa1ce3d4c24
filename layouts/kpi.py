"""KPI tiles: a label, a big number, the change against the previous period and last year (环比,
同比) where the figure has one, and the figure's definition on hover or tap.

The tiles' names and texts are ``dashboard.domain.wall_values``' (``KPI_NAMES``, ``kpi_values``):
the live state fills the same tiles by id with the same texts.
"""

from __future__ import annotations

from dash import html

from dashboard.domain.figure_text import DASH
from dashboard.domain.labels import definition, label
from dashboard.domain.wall_values import KPI_NAMES, WITH_CHANGE
from layouts import ids


def change_line(name: str, lang: str) -> html.Div:
    """The 环比 and 同比 slots under a tile's number, filled by the live state's change cells."""
    return html.Div(className="kpi-change", children=[
        html.Span(label("chg.mom", lang), className="chg-label"), html.Span(DASH, id=f"chg-{name}-mom", className="chg"),
        html.Span(label("chg.yoy", lang), className="chg-label"), html.Span(DASH, id=f"chg-{name}-yoy", className="chg"),
    ])


def kpi_tile(name: str, value: str, lang: str, *, words: dict[str, str]) -> html.Div:
    """``words`` name the screen's period (``ScreenPeriod.words``) in its labels and definitions."""
    children: list[object] = [html.Div(label(name, lang).format(**words), className="kpi-label"),
                              html.Div(value, id=ids.kpi(name), className="kpi-value")]
    if name in WITH_CHANGE:
        children.append(change_line(name, lang))
    if name == "received_period":  # 事项 · 重复 (DESIGN.md "matters"), filled by the panel cell
        children.append(html.Div(DASH, id="matters-line", className="kpi-sub",
                                 title=f"{definition('fig.matters', lang)} {definition('fig.repeats', lang)}"))
    return html.Div(className=f"kpi kpi-{name}", title=definition(name, lang).format(**words), tabIndex="0",
                    children=children)


def kpi_row(values: dict[str, str], lang: str, *, words: dict[str, str]) -> html.Div:
    """Every tile of ``KPI_NAMES``, showing ``values`` (``kpi_values``' texts) or a dash."""
    return html.Div(id=ids.KPIS, className="kpi-row",
                    children=[kpi_tile(n, values.get(n, DASH), lang, words=words) for n in KPI_NAMES])
