"""The leader's tablet on plain values: figures with their changes, definitions on tap and
denominators, drill-down links, a case list without personal data, the comparison."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

from dash import dcc, html

from dashboard.domain.areas import AreaRef, AreaRow
from dashboard.domain.figures import InstantCounts, PeriodCounts
from dashboard.domain.labels import definition, label, reason_text
from dashboard.domain.periods import Period
from dashboard.domain.tablet_view import CaseLine, PeriodComparison, TabletView
from dashboard.domain.vocabulary import AlertLevel
from layouts.tablet import (
    area_body, breadcrumb, case_table, child_list, compare_body, figure_tiles, href, range_bar, tablet,
)
from tests.layouts.tree import by_id, classes, ids, nodes, text, with_class

PERIOD = Period(date(2026, 10, 25), date(2026, 11, 23))
COUNTY = AreaRef("220283", "舒兰市", "county")
TOWN = AreaRef("220283100", "吉舒街道", "township")
OTHER_TOWN = AreaRef("220283101", "北城街道", "township")
PARAMS = {"lang": "zh", "range": "30d"}
FIGURES = PeriodComparison(
    current=PeriodCounts(received=1_990, closed=1_705, closed_on_time=1_600, closed_village=1_000, closed_township=505,
                         closed_county=200, followed_up=400, satisfied=380),
    previous=PeriodCounts(received=1_000, closed=900, closed_on_time=900, followed_up=400, satisfied=390),
    last_year=PeriodCounts(),
    now=InstantCounts(open=285, overdue=4, red=0),
)
ACKED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _line(case_id: int, level: str | None = "red", reasons: str = "people_red") -> CaseLine:
    return CaseLine(id=case_id, received_at=datetime(2026, 11, 22, 16, 30, tzinfo=UTC), category="land", source="petition",
                    status="received", tier="village", alert_level=level, alert_reasons=reasons if level else "",
                    grid_code="220283100001002", due_at=datetime(2026, 11, 30, tzinfo=UTC), resolved_at=None,
                    supervised=True, acknowledged_at=ACKED, acknowledged_by="李值班")


def _view(path: list[AreaRef], children: list[AreaRow] | None = None, figures: PeriodComparison = FIGURES) -> TabletView:
    return TabletView(path, PERIOD, figures, children or [], 120, [_line(7), _line(8, None)])


def _query(link: dcc.Link) -> dict[str, list[str]]:
    return parse_qs(urlsplit(link.href).query)


def test_links_keep_the_address_and_drop_what_is_cleared() -> None:
    assert href({"lang": "en", "range": "7d", "compare": "1,2"}, area="9", compare=None) == "/tablet?lang=en&range=7d&area=9"


def test_figures_show_value_change_definition_and_denominator() -> None:
    tiles = figure_tiles(FIGURES, "zh")
    rate = by_id(tiles, "fig-closure_rate")
    assert isinstance(rate, html.Details), "the definition opens on tap; a touch screen shows no title"
    summary = text(rate.children[0])
    assert "85.68%" in summary and "1,705 ÷ 1,990" in summary, "a rate says what it is of"
    changes = with_class(rate, "chg")
    assert [(c.children, classes(c)[1]) for c in changes] == [("↓4.32pt", "chg-down"), ("—", "chg-flat")], \
        "环比 against the previous period; 同比 with no last year is a dash"
    assert definition("fig.closure_rate", "zh") in text(rate.children[1])
    assert definition("chg", "zh") in text(rate.children[1])
    received = by_id(tiles, "fig-received")
    assert "1,990" in text(received) and with_class(received, "chg")[0].children == "↑99.0%"
    assert "warn" in classes(with_class(by_id(tiles, "fig-overdue"), "fig-value")[0])
    assert "bad" not in classes(with_class(by_id(tiles, "fig-red"), "fig-value")[0]), "no red, no alarm colour"
    assert not with_class(by_id(tiles, "fig-open"), "fig-change"), "an instant figure has no change"


def test_the_tier_tile_shares_resolved_cases_by_tier() -> None:
    tier = by_id(figure_tiles(FIGURES, "en"), "fig-tier")
    widths = [bar.style["width"] for bar in with_class(tier, "bar-fill")]
    assert widths == ["58.6%", "29.6%", "11.7%"], "village, township, county"
    assert [n.children for n in with_class(tier, "tier-n")] == ["1,000", "505", "200"]


def test_the_breadcrumb_links_every_level_but_the_current() -> None:
    crumbs = breadcrumb([COUNTY, TOWN], {**PARAMS, "compare": "1,2"})
    links = [node for node in nodes(crumbs) if isinstance(node, dcc.Link)]
    assert [link.children for link in links] == ["舒兰市"] and _query(links[0]) == {"lang": ["zh"], "range": ["30d"],
                                                                                   "area": ["220283"]}
    assert with_class(crumbs, "crumb-current")[0].children == "吉舒街道"


def test_the_range_bar_marks_the_range_shown_and_drops_a_custom_span() -> None:
    bar = range_bar({**PARAMS, "range": "custom", "from": "2026-11-01", "to": "2026-11-10"}, PERIOD, "zh")
    seven = by_id(bar, "range-7d")
    assert _query(seven) == {"lang": ["zh"], "range": ["7d"]} and "seg-on" not in classes(seven)
    assert "seg-on" in classes(with_class(bar, "seg")[-1]), "custom is the one shown"
    picker = by_id(bar, "tablet-range")
    assert (picker.start_date, picker.end_date) == ("2026-10-25", "2026-11-23")
    assert "2026-10-25 至 2026-11-23" in text(bar)


def test_child_areas_drill_down_with_their_level_and_warnings() -> None:
    rows = [AreaRow(TOWN.code, TOWN.name, PeriodCounts(received=10, closed=9), 3, 2, 1, AlertLevel.red),
            AreaRow(OTHER_TOWN.code, OTHER_TOWN.name, PeriodCounts(), 0, 0, 0, None)]
    section = child_list(rows, "township", PARAMS, "zh")
    assert section is not None
    first, second = by_id(section, f"child-{TOWN.code}"), by_id(section, f"child-{OTHER_TOWN.code}")
    assert _query(first)["area"] == [TOWN.code]
    assert classes(first.children[0]) == ["dot", "dot-red"] and classes(second.children[0]) == ["dot", "dot-none"]
    assert "90.00%" in text(first) and "9 ÷ 10" in text(first)
    assert "num-warn" in classes(first.children[5]) and "num-red" in classes(first.children[6])
    assert "num-red" not in classes(second.children[6])
    assert label("tablet.children.township", "zh") in text(section)
    assert definition("fig.received", "zh") in text(section), "the definitions open on tap"
    assert child_list([], "village", PARAMS, "zh") is None and child_list(rows, None, PARAMS, "zh") is None


def test_a_case_row_shows_no_personal_data_and_its_level_opens_its_reasons() -> None:
    table = case_table(120, [_line(7), _line(8, None)], "zh")
    body = [node for node in nodes(table) if isinstance(node, html.Tbody)][0]
    first, second = body.children
    assert [text(cell) for cell in first.children[:5]] == ["#7", "11-23 00:30", "土地山林", "信访", "受理"]
    assert first.children[6].children == "001002", "the grid's own number, not the full code"
    assert "李值班" not in text(table) and "李值班" not in str(table), "not even the officer who acknowledged it"
    level = first.children[5].children
    assert isinstance(level, html.Details) and classes(with_class(level, "chip")[0]) == ["chip", "chip-red"]
    assert reason_text("people_red", "zh") in text(level.children[1])
    assert second.children[5].children == "—"
    assert "共120件，显示最新2件" in text(table)


def test_the_area_body_offers_the_comparison_only_for_the_county() -> None:
    county = area_body(_view([COUNTY]), PARAMS, "zh", [TOWN, OTHER_TOWN])
    assert "tablet-compare-a" in ids(county)
    picker = by_id(county, "tablet-compare-a")
    assert picker.options == [{"label": "吉舒街道", "value": TOWN.code}, {"label": "北城街道", "value": OTHER_TOWN.code}]
    assert "tablet-compare-a" not in ids(area_body(_view([COUNTY, TOWN]), PARAMS, "zh", [TOWN, OTHER_TOWN]))
    assert "tablet-cases" in ids(county) and "tablet-children" not in ids(county), "no child rows, no child list"


def test_the_comparison_tells_the_difference_per_figure() -> None:
    other = PeriodComparison(PeriodCounts(received=1_000, closed=800), PeriodCounts(), PeriodCounts(), InstantCounts(open=300))
    body = compare_body(_view([COUNTY, TOWN]), _view([COUNTY, OTHER_TOWN], figures=other),
                        {**PARAMS, "compare": f"{TOWN.code},{OTHER_TOWN.code}"}, "zh", [TOWN, OTHER_TOWN])
    table = by_id(body, "tablet-compare")
    rows = {text(row.children[0].children.children[0]): row for row in nodes(table) if isinstance(row, html.Tr)
            and isinstance(row.children[0].children, html.Details)}
    assert text(rows["受理"].children[-1]) == "+990"
    assert text(rows["办结率"].children[-1]) == "+5.68pt"
    assert text(rows["在办"].children[-1]) == "-15"
    assert text(rows["满意率"].children[-1]) == "—", "no follow-ups on one side, no difference"
    head_links = [node for node in nodes(table) if isinstance(node, dcc.Link)]
    assert [_query(link)["area"] for link in head_links] == [[TOWN.code], [OTHER_TOWN.code]]
    assert "compare" not in _query(head_links[0]), "opening one side leaves the comparison"


def test_the_page_refreshes_on_its_timer_and_switches_language_in_place() -> None:
    page = tablet("舒兰市 · 领导", ["正文"], {**PARAMS, "area": TOWN.code}, "zh", 30_000)
    assert page[0].children[0].children == "舒兰市 · 领导"
    assert _query(page[0].children[1]) == {"lang": ["en"], "range": ["30d"], "area": [TOWN.code]}
    assert by_id(page, "tablet-body").children == ["正文"]
    assert page[2].id == "tablet-tick" and page[2].interval == 30_000
