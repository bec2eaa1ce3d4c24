"""The leader's tablet: breadcrumb drill-down, time ranges, figures with 环比/同比, child areas,
the newest cases (no personal data), and a side-by-side comparison of two townships.

Every state lives in the URL (``/tablet?area=…&range=…``), so a view can be forwarded as a link.
Touch targets are at least 44 px (assets/tablet.css). Definitions open on tap (details/summary):
touch screens never show a ``title``. Rates carry their numerator and denominator (``1,705 ÷ 1,990``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from dash import dcc, html

from dashboard.domain.area_kinds import kind_name
from dashboard.domain.areas import AreaRef, AreaRow
from dashboard.domain.figure_text import DASH, change_cell, count_text, point_change, rate_text, relative_change
from dashboard.domain.figures import PeriodCounts
from dashboard.domain.labels import definition, label, reasons_text
from dashboard.domain.periods import LOCAL_TZ, RANGE_NAMES, Period
from dashboard.domain.tablet_view import CaseLine, PeriodComparison, TabletView
from layouts.map_view import MEASURES, TABLET_LEGEND, tablet_legend, tablet_map

BODY = "tablet-body"
TICK = "tablet-tick"
RANGE_FROM = "tablet-range"
COMPARE_A = "tablet-compare-a"
COMPARE_B = "tablet-compare-b"
COMPARE_GO = "tablet-compare-go"
MAP_VALUES = "tablet-map-values"
MAP_CARD = "tablet-map-card"


def href(params: dict[str, str], **changes: str | None) -> str:
    merged = {k: v for k, v in {**params, **changes}.items() if v}
    return "/tablet?" + urlencode(merged)


def _change(value: float | None, unit: str) -> html.Span:
    """The same arrow, number and colour as the wall's change cells."""
    return html.Span(**change_cell(value, unit))


RATIOS = {"closure_rate": ("closed", "received"), "on_time_rate": ("closed_on_time", "closed"),
          "satisfaction_rate": ("satisfied", "followed_up")}
"""Each rate's numerator and denominator among the period counts."""


def ratio(counts: PeriodCounts, name: str) -> str:
    """``numerator ÷ denominator`` of a rate, so a leader sees what the percentage is of."""
    top, bottom = RATIOS[name]
    return f"{count_text(getattr(counts, top))} ÷ {count_text(getattr(counts, bottom))}"


def tap_definition(text: str, body: list[str]) -> html.Details:
    """A label that opens its definition on tap."""
    return html.Details([html.Summary(text), html.Div([html.P(p) for p in body], className="fig-definition")],
                        className="tap-definition")


def figure_tile(name: str, value: str, lang: str, *, changes: tuple[html.Span, html.Span] | None = None,
                tone: str = "", denominator: str | None = None) -> html.Details:
    """A figure; tapping it opens its definition and denominator."""
    summary = [html.Div(label(f"fig.{name}", lang), className="fig-label"), html.Div(value, className=f"fig-value {tone}")]
    if denominator:
        summary.append(html.Div(denominator, className="fig-ratio"))
    if changes:
        summary.append(html.Div([html.Span(label("chg.mom", lang)), changes[0], html.Span(label("chg.yoy", lang)), changes[1]],
                                className="fig-change"))
    body = [html.P(definition(f"fig.{name}", lang))]
    if changes:
        body.append(html.P(definition("chg", lang)))
    return html.Details([html.Summary(summary), html.Div(body, className="fig-definition")],
                        className=f"fig fig-{name}", id=f"fig-{name}")


def figure_tiles(figures: PeriodComparison, lang: str) -> html.Div:
    now, prev, year = figures.current, figures.previous, figures.last_year

    def count_change(field: str) -> tuple[html.Span, html.Span]:
        return (_change(relative_change(getattr(now, field), getattr(prev, field)), "%"),
                _change(relative_change(getattr(now, field), getattr(year, field)), "%"))

    def rate_change(field: str) -> tuple[html.Span, html.Span]:
        return (_change(point_change(getattr(now, field), getattr(prev, field)), "pt"),
                _change(point_change(getattr(now, field), getattr(year, field)), "pt"))

    return html.Div(className="fig-grid", children=[
        figure_tile("received", count_text(now.received), lang, changes=count_change("received")),
        figure_tile("closed", count_text(now.closed), lang, changes=count_change("closed")),
        figure_tile("closure_rate", rate_text(now.closure_rate), lang, changes=rate_change("closure_rate"), tone="good",
                    denominator=ratio(now, "closure_rate")),
        figure_tile("on_time_rate", rate_text(now.on_time_rate), lang, changes=rate_change("on_time_rate"),
                    denominator=ratio(now, "on_time_rate")),
        figure_tile("satisfaction_rate", rate_text(now.satisfaction_rate), lang, changes=rate_change("satisfaction_rate"),
                    denominator=ratio(now, "satisfaction_rate")),
        figure_tile("open", count_text(figures.now.open), lang),
        figure_tile("overdue", count_text(figures.now.overdue), lang, tone="warn" if figures.now.overdue else ""),
        figure_tile("red", count_text(figures.now.red), lang, tone="bad" if figures.now.red else ""),
        tier_tile(now, lang),
    ])


def tier_tile(counts: PeriodCounts, lang: str) -> html.Details:
    shares = counts.tier_shares()
    rows = [html.Div(className="tier-line", children=[
        html.Span(label(f"tier.{tier}", lang)), html.Span(className="bar-track", children=html.Span(
            className="bar-fill", style={"width": f"{shares[tier] or 0:.1f}%"})), html.Span(rate_text(shares[tier])),
        html.Span(count_text(getattr(counts, f"closed_{tier}")), className="tier-n")])
        for tier in ("village", "township", "county")]
    return html.Details([html.Summary([html.Div(label("fig.tier", lang), className="fig-label"), *rows]),
                         html.Div(html.P(definition("fig.tier", lang)), className="fig-definition")],
                        className="fig fig-tier", id="fig-tier")


def breadcrumb(path: list[AreaRef], params: dict[str, str]) -> html.Nav:
    items: list[object] = []
    for i, ref in enumerate(path):
        if i:
            items.append(html.Span("›", className="crumb-sep"))
        last = i == len(path) - 1
        items.append(html.Span(ref.name, className="crumb crumb-current") if last
                     else dcc.Link(ref.name, href=href(params, area=ref.code, compare=None), className="crumb"))
    return html.Nav(items, className="breadcrumb", id="tablet-breadcrumb")


def range_bar(params: dict[str, str], period: Period, lang: str) -> html.Div:
    current = params.get("range", "30d")
    links = [dcc.Link(label(f"range.{name}", lang), href=href(params, range=name, **{"from": None, "to": None}),
                      className="seg" + (" seg-on" if name == current else ""), id=f"range-{name}")
             for name in RANGE_NAMES if name != "custom"]
    picker = dcc.DatePickerRange(id=RANGE_FROM, start_date=period.first.isoformat(), end_date=period.last.isoformat(),
                                 display_format="YYYY-MM-DD", minimum_nights=0, className="range-picker")
    span = label("range.span", lang).format(first=period.first.isoformat(), last=period.last.isoformat())
    return html.Div([*links, html.Span(label("range.custom", lang), className="seg" + (" seg-on" if current == "custom" else "")),
                     picker, html.Span(span, className="range-span")], className="range-bar")


def child_list(rows: list[AreaRow], level: str | None, params: dict[str, str], lang: str) -> html.Section | None:
    if not rows or level is None:
        return None
    lines = [
        dcc.Link(href=href(params, area=row.code), className="child", id=f"child-{row.code}", children=[
            html.I(className=f"dot dot-{row.alert.value if row.alert else 'none'}"),
            html.Span([row.name, *_kind_tag(row, lang)], className="child-name"),
            html.Span([html.Small(label("fig.received", lang)), count_text(row.counts.received)], className="child-num"),
            html.Span([html.Small(label("fig.closure_rate", lang)), rate_text(row.counts.closure_rate),
                       html.Small(ratio(row.counts, "closure_rate"), className="child-ratio")], className="child-num"),
            html.Span([html.Small(label("fig.open", lang)), count_text(row.open)], className="child-num"),
            html.Span([html.Small(label("fig.overdue", lang)), count_text(row.overdue)],
                      className="child-num" + (" num-warn" if row.overdue else "")),
            html.Span([html.Small(label("fig.red", lang)), count_text(row.red)], className="child-num" + (" num-red" if row.red else "")),
        ])
        for row in rows
    ]
    names = ("received", "closure_rate", "open", "overdue", "red")
    legend = tap_definition(label("tablet.definitions", lang), [
        label("tablet.definition_line", lang).format(name=label(f"fig.{n}", lang), text=definition(f"fig.{n}", lang))
        for n in names])
    return html.Section([html.Div([html.H2(label(f"tablet.children.{level}", lang)), legend], className="card-head"),
                         html.Div(lines, className="child-list")], className="card", id="tablet-children")


def _kind_tag(row: AreaRow, lang: str) -> list[html.Small]:
    """The unit's kind beside its name (开发区, 镇, 社区 …): a development zone is not a town."""
    if not row.kind:
        return []
    return [html.Small(kind_name(row.kind, row.name, lang), className="child-kind",
                       style={"marginLeft": "6px", "fontWeight": 400, "color": "var(--muted)"})]


def _level_cell(level: str, reasons: str, lang: str) -> html.Details | html.Span:
    """The alert level; tapping it shows why (a ``title`` never shows on a touch screen)."""
    chip = html.Span(label(f"level.{level}", lang), className=f"chip chip-{level}")
    if not reasons:
        return chip
    return html.Details([html.Summary(chip), html.Div(reasons, className="case-reasons")], className="tap-reasons")


def case_table(total: int, lines: list[CaseLine], lang: str) -> html.Section:
    head = html.Tr([html.Th(label(f"col.{c}", lang)) for c in ("id", "received_at", "category", "source", "status", "level", "grid")])
    body = []
    for line in lines:
        level = line.alert_level or "none"
        reasons = reasons_text(line.alert_reasons.split(","), lang)
        body.append(html.Tr([
            html.Td(f"#{line.id}"),
            html.Td(line.received_at.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")),
            html.Td(label(f"category.{line.category}", lang)),
            html.Td(label(f"source.{line.source}", lang)),
            html.Td(label(f"status.{line.status}", lang)),
            html.Td(_level_cell(level, reasons, lang) if line.alert_level else DASH),
            html.Td(line.grid_code[-6:]),
        ]))
    caption = label("tablet.cases", lang).format(total=f"{total:,}", shown=len(lines))
    return html.Section([html.H2(caption), html.Div(html.Table([html.Thead(head), html.Tbody(body)], className="case-table"),
                                                      className="table-scroll")], className="card", id="tablet-cases")


def compare_picker(townships: list[AreaRef], params: dict[str, str], lang: str) -> html.Div:
    chosen = (params.get("compare") or ",").split(",")
    options = [{"label": t.name, "value": t.code} for t in townships]
    return html.Div(className="compare-bar", children=[
        html.Span(label("tablet.compare", lang), className="compare-title"),
        dcc.Dropdown(id=COMPARE_A, options=options, value=chosen[0] or None, placeholder=label("tablet.compare_pick", lang),
                     clearable=False, searchable=False, className="compare-pick"),
        dcc.Dropdown(id=COMPARE_B, options=options, value=chosen[1] if len(chosen) > 1 and chosen[1] else None,
                     placeholder=label("tablet.compare_pick", lang), clearable=False, searchable=False,
                     className="compare-pick"),
        html.Button(label("tablet.compare_go", lang), id=COMPARE_GO, className="button", n_clicks=0),
    ])


def header(title: str, params: dict[str, str], lang: str) -> html.Header:
    other = "en" if lang == "zh" else "zh"
    return html.Header(className="tablet-header", children=[
        html.H1(title),
        dcc.Link(label("tablet.lang", lang), href=href(params, lang=other), className="seg lang-switch"),
        html.A(label("tablet.reports", lang), href=f"/reports?lang={lang}", className="seg reports-link"),
    ])


def area_body(view: TabletView, params: dict[str, str], lang: str, townships: list[AreaRef]) -> list[object]:
    """Everything below the header: refreshed every half minute without losing the URL."""
    parts: list[object] = [
        breadcrumb(view.path, params),
        range_bar(params, view.period, lang),
        figure_tiles(view.figures, lang),
    ]
    children = child_list(view.children, view.child_level, params, lang)
    if children is not None:
        parts.append(children)
    parts.append(case_table(view.total_cases, view.cases, lang))
    if view.area.level == "county":
        parts.insert(2, compare_picker(townships, params, lang))
    return parts


COMPARE_ROWS = (
    ("received", "count"), ("closed", "count"), ("closure_rate", "rate"), ("on_time_rate", "rate"),
    ("satisfaction_rate", "rate"), ("open", "now"), ("overdue", "now"), ("red", "now"),
)


def _figure_value(figures: PeriodComparison, name: str, kind: str) -> float | None:
    if kind == "now":
        return float(getattr(figures.now, name))
    value = getattr(figures.current, name)
    return None if value is None else float(value)


def compare_body(a: TabletView, b: TabletView, params: dict[str, str], lang: str, townships: list[AreaRef]) -> list[object]:
    head = html.Tr([html.Th(""), html.Th(dcc.Link(a.area.name, href=href(params, area=a.area.code, compare=None))),
                    html.Th(dcc.Link(b.area.name, href=href(params, area=b.area.code, compare=None))),
                    html.Th(label("tablet.difference", lang))])
    rows = []
    for name, kind in COMPARE_ROWS:
        va, vb = _figure_value(a.figures, name, kind), _figure_value(b.figures, name, kind)
        text = rate_text if kind == "rate" else (lambda v: DASH if v is None else f"{int(v):,}")
        diff = None if va is None or vb is None else va - vb
        diff_text = DASH if diff is None else (f"{diff:+.2f}pt" if kind == "rate" else f"{int(diff):+,}")
        cells = [html.Td(text(v)) if kind != "rate" else html.Td([text(v), html.Div(ratio(f.current, name), className="fig-ratio")])
                 for v, f in ((va, a.figures), (vb, b.figures))]
        rows.append(html.Tr([html.Th(tap_definition(label(f"fig.{name}", lang), [definition(f"fig.{name}", lang)])),
                             *cells, html.Td(diff_text)]))
    return [
        breadcrumb(a.path[:1], params),
        range_bar(params, a.period, lang),
        compare_picker(townships, params, lang),
        html.Section([html.H2(label("tablet.compare", lang)),
                      html.Table([html.Thead(head), html.Tbody(rows)], className="compare-table")],
                     className="card", id="tablet-compare"),
    ]


def measure_bar(params: dict[str, str], lang: str) -> html.Div:
    """What the children on the map are coloured by; a link, so a forwarded view keeps it."""
    current = params.get("measure", MEASURES[0])
    links = [dcc.Link(label(f"tablet.measure.{name}", lang), href=href(params, measure=name), id=f"measure-{name}",
                      className="seg" + (" seg-on" if name == current else "")) for name in MEASURES]
    return html.Div([html.Span(label("tablet.map.measure", lang), className="measure-title"), *links],
                    className="measure-bar")


def map_values(hideout: dict[str, object]) -> dcc.Store:
    """The map's values as of this refresh: the body carries them, and a callback hands them to
    the map (``callbacks.tablet``), which restyles its areas and keeps its view."""
    return dcc.Store(id=MAP_VALUES, data=hideout)


def map_card(*, area: str, url: str, bounds: list[list[float]], hideout: dict[str, object], params: dict[str, str],
             lang: str) -> html.Section:
    """The map of the area's children beside the lists: tap an area to open it."""
    return html.Section(id=MAP_CARD, className="card tablet-map-card", children=[
        html.H2(label("tablet.map", lang)),
        measure_bar(params, lang),
        tablet_map(area=area, url=url, bounds=bounds, hideout=hideout),
        html.Div(tablet_legend(hideout, lang), id=TABLET_LEGEND, className="legend tablet-legend"),
    ])


def tablet(title: str, body: list[object], params: dict[str, str], lang: str, refresh_ms: int,
           map_section: html.Section | None = None) -> list[object]:
    """The page: the map beside the body (side by side on a landscape screen ≥ 1024 px, stacked on
    a narrow one: assets/tablet.css). Only the body is refreshed; the map is left alone."""
    main = html.Main(body, id=BODY, className="tablet-body")
    return [
        header(title, params, lang),
        html.Div([map_section, main] if map_section is not None else [main], className="tablet-split"),
        dcc.Interval(id=TICK, interval=refresh_ms),
    ]
