"""KPI tiles on plain values: one tile per KPI in order, the live state's texts, the definition on hover."""

from __future__ import annotations

from dashboard.domain.figures import InstantCounts, PeriodCounts, WallFigures
from dashboard.domain.labels import definition, label
from dashboard.domain.screen_period import ScreenPeriod
from dashboard.domain.wall_values import KPI_NAMES, WITH_CHANGE, kpi_values
from layouts import ids
from layouts.kpi import kpi_row, kpi_tile
from tests.layouts.tree import by_id, classes, text

WORDS = ScreenPeriod(days=7).words("zh")
FIGURES = WallFigures(today=PeriodCounts(received=1_265, closed=20), last_30_days=PeriodCounts(received=23_724, closed=23_487),
                      now=InstantCounts(open=3_402, overdue=12, red=1))


def test_the_row_has_every_tile_in_order_with_the_live_states_ids() -> None:
    row = kpi_row({}, "zh", words=WORDS)
    assert row.id == ids.KPIS
    assert [tile.className for tile in row.children] == [f"kpi kpi-{name}" for name in KPI_NAMES]
    for name in KPI_NAMES:
        assert by_id(row, ids.kpi(name)).children == "—", "a tile waiting for the live state shows a dash"


def test_the_tiles_show_the_texts_the_live_state_computes() -> None:
    values = kpi_values(FIGURES)
    assert values == {"received_today": "1,265", "closed_today": "20", "open": "3,402", "overdue": "12",
                      "closure_rate_30d": "99.00%", "red_alerts": "1"}
    row = kpi_row(values, "en", words=WORDS)
    for name, shown in values.items():
        assert by_id(row, ids.kpi(name)).children == shown
    assert by_id(row, ids.kpi("satisfaction_rate")).children == "—", "filled from the panel cells, not the KPI texts"


def test_a_rate_with_no_denominator_is_a_dash_not_zero() -> None:
    empty = WallFigures(today=PeriodCounts(), last_30_days=PeriodCounts(), now=InstantCounts())
    assert kpi_values(empty)["closure_rate_30d"] == "—"
    assert kpi_values(WallFigures(today=PeriodCounts(), last_30_days=PeriodCounts(received=4, closed=1),
                                  now=InstantCounts(), period=PeriodCounts(received=3, closed=3)))["closure_rate_30d"] \
        == "100.00%", "the screen's own period wins over the 30 days"


def test_the_label_and_definition_name_the_screens_period() -> None:
    tile = kpi_tile("closure_rate_30d", "98.50%", "zh", words=WORDS)
    assert tile.children[0].children == "近7日办结率"
    assert tile.title == definition("closure_rate_30d", "zh").format(**WORDS), "the definition shows on hover"
    assert "近7日" in tile.title and tile.tabIndex == "0", "a keyboard or a tap reaches it too"
    assert "kpi-value" in classes(tile.children[1]) and tile.children[1].children == "98.50%"


def test_only_period_tiles_carry_a_change_line() -> None:
    for name in KPI_NAMES:
        tile = kpi_tile(name, "1", "zh", words=WORDS)
        change = [child for child in tile.children if "kpi-change" in classes(child)]
        assert bool(change) == (name in WITH_CHANGE), name
        if change:
            assert by_id(tile, f"chg-{name}-mom").children == "—" and by_id(tile, f"chg-{name}-yoy").children == "—"
            assert text(change) == f"{label('chg.mom', 'zh')} — {label('chg.yoy', 'zh')} —"
