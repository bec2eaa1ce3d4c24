"""The warnings panel on the wall (cells), the tablet and the console (built lists)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from dashboard.domain.warning_view import WALL_ROWS, WarningView
from dashboard.warnings.cells import warning_cells
from layouts.warnings_panel import ACK_BUTTON, duty_warnings, wall_warnings_panel, warnings_list
from tests.layouts.tree import by_id, nodes, text

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
LAND = WarningView(7, "220283003", "township", "land", 3, 9, 2.1, 0.0003,
                   "土地山林 · 环城街道 · 近3日9件，预期2.1件（同期均值），p<0.001",
                   "Land · 环城街道 · 9 cases in the last 3 days, 2.1 expected (seasonal baseline), p<0.001", NOW, NOW)
DEBT = replace(LAND, id=8, area_code="220283003001", area_level="village", category="debt",
               reason_zh="债务纠纷 · 环城街道 · 某村 · 近1日5件，预期0.2件（同期均值），p<0.001", reason_en="Debt …")


def test_the_wall_panel_has_a_row_for_each_cell_and_starts_empty() -> None:
    built = wall_warnings_panel("zh")
    assert text(by_id(built, "warn-count")) == "暂无预警"
    for i in range(WALL_ROWS):
        assert "warn-empty" in by_id(built, f"warn-{i}").className
        by_id(built, f"warn-{i}-text")


def test_cells_fill_the_rows_least_probable_first_and_name_the_areas_for_the_map() -> None:
    cells = warning_cells([LAND, DEBT], "zh")
    assert cells["warn-count"] == {"children": "2条预警"}
    assert cells["warn-0-text"] == {"children": LAND.reason_zh} and cells["warn-1-text"] == {"children": DEBT.reason_zh}
    assert cells["warn-2"] == {"className": "warn-row warn-empty"} and cells["warn-2-text"] == {"children": ""}
    assert cells["_warnings"] == {"areas": ["220283003", "220283003001"]}
    acked = warning_cells([replace(LAND, acknowledged_by="王值班", acknowledged_at=NOW)], "en")
    assert acked["warn-0"]["className"] == "warn-row warn-acked" and acked["warn-0-text"]["children"].startswith("Land")
    assert warning_cells([], "en")["warn-count"] == {"children": "No warnings"}


def test_the_console_offers_acknowledge_only_where_nobody_has() -> None:
    built = duty_warnings([LAND, replace(DEBT, acknowledged_by="王值班", acknowledged_at=NOW)], "zh")
    buttons = [n for n in nodes(built) if isinstance(getattr(n, "id", None), dict)]
    assert [b.id for b in buttons] == [{"type": ACK_BUTTON, "id": 7}]
    assert "已确认 · 王值班" in text(built) and LAND.reason_zh in text(built)
    assert "暂无预警" in text(duty_warnings([], "zh"))


def test_the_tablet_lists_every_warning_of_the_area() -> None:
    built = warnings_list([LAND, DEBT], "en", class_name="tablet-warnings")
    assert LAND.reason_en in text(built) and "Debt" in text(built) and "since" in text(built)
