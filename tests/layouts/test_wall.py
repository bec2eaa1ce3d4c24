"""The wall page on plain values: title, period, what live.js follows, and an element for every
value the live state sends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dash import dcc

from dashboard.domain.areas import AreaRow
from dashboard.domain.figures import InstantCounts, PeriodCounts, WallFigures
from dashboard.domain.labels import label
from dashboard.domain.periods import Period
from dashboard.domain.screen_period import ScreenPeriod
from dashboard.domain.vocabulary import AlertLevel, Category
from dashboard.domain.wall_values import kpi_values
from dashboard.screens.wall_panels import PanelInputs, TickerItem, panel_cells
from layouts import ids
from layouts.wall import ADDRESS, PAGE, SCREEN, URL, live_anchor, navigable, shell, wall
from tests.layouts.tree import by_id, ids as all_ids, nodes, text

BOUNDS = [[44.0, 126.5], [44.6, 127.3]]
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _wall(**overrides: object) -> list[object]:
    args: dict[str, object] = dict(county="220283", county_name="舒兰市", bounds=BOUNDS, lang="zh", stale_ms=90_000,
                                   build="b7", townships=3)
    return wall(**{**args, **overrides})  # type: ignore[arg-type]


def test_the_title_names_the_county_or_the_followed_township() -> None:
    assert by_id(_wall(), ids.TITLE).children == f"舒兰市 · {label('title', 'zh')}"
    followed = _wall(area="220283100", area_name="吉舒街道", lang="en")
    assert by_id(followed, ids.TITLE).children == f"舒兰市 · 吉舒街道 · {label('title', 'en')}"


def test_the_header_names_the_period_and_waits_for_the_first_state() -> None:
    page = _wall(period=ScreenPeriod(ytd=True), lang="en")
    assert "Period: year to date" in text(page[0])
    assert by_id(page, ids.UPDATED).children == "—"
    assert "badge-wait" in by_id(page, ids.FRESHNESS).className


def test_the_anchor_tells_live_js_what_to_follow() -> None:
    anchor = by_id(_wall(period=ScreenPeriod(days=7), tour=False, tour_seconds=(30, 5)), ids.LIVE)
    props = anchor.to_plotly_json()["props"]
    assert anchor.hidden is True
    assert {k: props[k] for k in ("data-county", "data-area", "data-period", "data-build", "data-stale-ms", "data-tour",
                                  "data-tour-home-ms", "data-tour-stop-ms", "data-lang")} == {
        "data-county": "220283", "data-area": "220283", "data-period": "7d", "data-build": "b7", "data-stale-ms": "90000",
        "data-tour": "off", "data-tour-home-ms": "30000", "data-tour-stop-ms": "5000", "data-lang": "zh"}
    assert props["data-reconnecting"] == label("reconnecting", "zh"), "the badge's words travel with the page"
    township = live_anchor(county="220283", area="220283100", period=ScreenPeriod(), build="b", stale_ms=1, lang="en")
    assert township.to_plotly_json()["props"]["data-area"] == "220283100"


def test_every_value_the_live_state_sends_has_its_element() -> None:
    """The live state fills elements by id: a cell or a KPI without its element would be lost."""
    page = _wall(townships=2)
    shown = set(all_ids(page))
    kpis = kpi_values(WallFigures(PeriodCounts(), PeriodCounts(), InstantCounts()))
    assert {ids.kpi(name) for name in kpis} <= shown
    row = AreaRow("220283100", "吉舒街道", PeriodCounts(received=4, closed=3), 1, 1, 0, AlertLevel.orange)
    inputs = PanelInputs(
        area="220283", period=Period.trailing(date(2026, 11, 23), 30), today=PeriodCounts(), current=PeriodCounts(),
        previous=PeriodCounts(), last_year=PeriodCounts(), categories={}, sources={},
        trend=[(date(2026, 10, 25) + timedelta(days=i), PeriodCounts()) for i in range(30)],
        townships=[row, AreaRow("220283101", "北城街道", PeriodCounts(), 0, 0, 0, None)],
        ticker=[TickerItem(7, NOW, AlertLevel.red, "吉舒街道 · 东风村", Category.land, 35, ("people_red",))],
    )
    cells = {cell for cell in panel_cells(inputs, "zh") if not cell.startswith("_")}
    assert cells - shown == set()


def test_the_map_sits_in_the_centre_with_its_legend() -> None:
    page = _wall(tile_url="https://tiles.example/{z}/{x}/{y}.png", tile_attribution="© 示例")
    assert by_id(page, ids.MAP).bounds == BOUNDS
    legend = by_id(page, ids.LEGEND)
    assert label("generated_note", "zh") in text(legend), "generated boundaries are labelled as such"
    assert by_id(page, ids.TOUR).hidden is True


def test_the_shell_waits_for_the_address_without_dcc() -> None:
    root = shell()
    assert by_id(root, ADDRESS).hidden is True and by_id(root, PAGE).children is None
    assert not [node for node in nodes(root) if type(node).__module__.startswith("dash.dcc")], \
        "the wall's page leaves the dcc scripts out"


def test_a_navigable_page_starts_at_its_own_address() -> None:
    location, body = navigable("/tablet", "?area=1", ["页"])
    assert isinstance(location, dcc.Location) and location.id == URL
    assert (location.pathname, location.search) == ("/tablet", "?area=1")
    assert body.id == SCREEN and body.children == ["页"]
