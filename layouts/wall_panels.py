"""The wall's side panels: breakdowns, tier pyramid, 30-day trend, league (townships, counties or
cities), alert ticker.

Each builder lays out elements with the ids that the live state's panel cells fill; values arrive
with the live state, so these functions take only the structure (names, sizes, language, and the
words that name the period, ``ScreenPeriod.words``).
"""

from __future__ import annotations

from dash import html

from dashboard.domain.figure_text import DASH
from dashboard.domain.labels import definition, label
from dashboard.domain.vocabulary import Category, Source, Tier
from dashboard.domain.wall_values import TICKER_ROWS, TREND_BARS, TREND_DAYS


def panel(title: str, body: list[object] | html.Div, *, tip: str = "", class_name: str = "") -> html.Section:
    return html.Section(className=f"panel {class_name}".strip(), title=tip or None, tabIndex="0", children=[
        html.H2(title, className="panel-title"), html.Div(body, className="panel-body"),
    ])


def bar_list(prefix: str, names: list[str], lang: str, word_prefix: str) -> list[html.Div]:
    return [
        html.Div(className="bar-row", children=[
            html.Span(label(f"{word_prefix}.{name}", lang), className="bar-name"),
            html.Span(className="bar-track", children=html.Span(id=f"{prefix}-{name}-bar", className="bar-fill")),
            html.Span(DASH, id=f"{prefix}-{name}-n", className="bar-n"),
        ])
        for name in names
    ]


def categories_panel(lang: str, words: dict[str, str]) -> html.Section:
    return panel(label("panel.categories", lang).format(**words),
                 bar_list("cat", [c.value for c in Category], lang, "category"),
                 tip=definition("panel.categories", lang).format(**words), class_name="panel-categories")


def sources_panel(lang: str, words: dict[str, str]) -> html.Section:
    return panel(label("panel.sources", lang).format(**words),
                 bar_list("src", [s.value for s in Source], lang, "source"),
                 tip=definition("panel.sources", lang).format(**words), class_name="panel-sources")


def pyramid_panel(lang: str, words: dict[str, str]) -> html.Section:
    """Village at the bottom, widest when 小事不出村 works."""
    rows = [
        html.Div(className=f"pyramid-row pyramid-{tier.value}", children=[
            html.Span(label(f"tier.{tier.value}", lang), className="bar-name"),
            html.Span(className="bar-track", children=html.Span(id=f"tier-{tier.value}-bar", className="bar-fill")),
            html.Span(DASH, id=f"tier-{tier.value}-pct", className="bar-n"),
            html.Span("", id=f"tier-{tier.value}-n", className="bar-sub"),
        ])
        for tier in (Tier.county, Tier.township, Tier.village)
    ]
    return panel(label("panel.pyramid", lang), rows, tip=definition("panel.pyramid", lang).format(**words),
                 class_name="panel-pyramid")


def trend_panel(lang: str) -> html.Section:
    bars = [html.Div(id=f"trend-{i}", className="trend-bar", children=html.Div(id=f"trend-{i}-closed", className="trend-closed"))
            for i in range(TREND_DAYS)]
    return panel(label("panel.trend", lang), [
        html.Div(className="trend-legend", children=[
            html.Span([html.I(className="swatch trend-swatch-received"), label("trend.received", lang)]),
            html.Span([html.I(className="swatch trend-swatch-closed"), label("trend.closed", lang)]),
            html.Span([label("trend.max", lang), " ", html.Span(DASH, id="trend-max")], className="trend-max"),
        ]),
        html.Div(bars, id=TREND_BARS, className="trend-bars"),
        html.Div(className="trend-axis", children=[html.Span("", id="trend-first"), html.Span("", id="trend-last")]),
    ], tip=definition("panel.trend", lang), class_name="panel-trend")


def league_panel(lang: str, words: dict[str, str], rows: int, level: str = "county") -> html.Section:
    """The league of the wall's area: a county's townships, a city's counties (``level`` city), a
    province's cities (``level`` province); one row per child, filled by the league cells."""
    suffix = "" if level in ("county", "township") else f".{level}"
    head = html.Div(className="league-row league-head", children=[
        html.Span(label("league.rank", lang), className="rank"),
        html.Span(label(f"league.name{suffix}", lang), className="name"),
        html.Span(label("league.rate", lang), className="num"), html.Span(label("league.overdue", lang), className="num"),
        html.Span(label("league.red", lang), className="num"),
    ])
    body = [
        html.Div(id=f"league-{i}", className="league-row", children=[
            html.Span(f"{i + 1}", className="rank"),
            html.Span(className="name", children=[html.I(id=f"league-{i}-dot", className="dot dot-none"),
                                                  html.Span(DASH, id=f"league-{i}-name")]),
            html.Span(DASH, id=f"league-{i}-rate", className="num"),
            html.Span(DASH, id=f"league-{i}-overdue", className="num"),
            html.Span(DASH, id=f"league-{i}-red", className="num"),
        ])
        for i in range(rows)
    ]
    return panel(label(f"panel.league{suffix}", lang).format(**words), [head, html.Div(body, className="league-body")],
                 tip=definition("panel.league", lang).format(**words), class_name="panel-league")


def ticker_panel(lang: str) -> html.Section:
    rows = [
        html.Div(id=f"ticker-{i}", className="ticker-row ticker-empty", children=[
            html.Span("", id=f"ticker-{i}-time", className="ticker-time"),
            html.Span("", id=f"ticker-{i}-level", className="chip"),
            html.Span("", id=f"ticker-{i}-place", className="ticker-place"),
            html.Span("", id=f"ticker-{i}-what", className="ticker-what"),
        ])
        for i in range(TICKER_ROWS)
    ]
    return panel(label("panel.ticker", lang), rows, tip=definition("panel.ticker", lang), class_name="panel-ticker")
