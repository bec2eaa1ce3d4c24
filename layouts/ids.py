"""Component ids shared by layouts, callbacks and browser tests."""

MAP = "wall-map"
GRIDS = "wall-grids"
TOWNSHIPS = "wall-townships"
CENTERS = "wall-centers"
KPIS = "wall-kpis"
UPDATED = "wall-updated"
FRESHNESS = "wall-freshness"
LIVE = "wall-live"
LEGEND = "wall-legend"
TITLE = "wall-title"


def kpi(name: str) -> str:
    return f"kpi-{name}"
TOUR = "wall-tour"
