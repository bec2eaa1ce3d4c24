"""The wall's warnings panel and map outlines as live cells (``dashboard.screens.wall_panels``).

``_warnings`` is data for ``assets/map_style.js``: the codes of every warned area, which it
outlines (a township's outline; a village's or a grid's grids) in a dashed magenta line.
"""

from __future__ import annotations

from dashboard.domain.labels import label
from dashboard.domain.warning_view import WALL_ROWS, WarningView

Cells = dict[str, dict[str, object]]


def warning_cells(warnings: list[WarningView], lang: str) -> Cells:
    cells: Cells = {"warn-count": {"children": label("warnings.count", lang).format(n=len(warnings))
                                   if warnings else label("warnings.none", lang)}}
    for i in range(WALL_ROWS):
        warning = warnings[i] if i < len(warnings) else None
        if warning is None:
            cells[f"warn-{i}"] = {"className": "warn-row warn-empty"}
            cells[f"warn-{i}-text"] = {"children": ""}
            continue
        cells[f"warn-{i}"] = {"className": "warn-row" + (" warn-acked" if warning.acknowledged_at else "")}
        cells[f"warn-{i}-text"] = {"children": warning.reason(lang)}
    cells["_warnings"] = {"areas": sorted({w.area_code for w in warnings})}
    return cells
