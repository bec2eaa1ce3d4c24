"""Component ids shared by layouts, callbacks and browser tests."""

REFRESH = "wall-refresh"
FRESHNESS_TICK = "wall-freshness-tick"
MAP = "wall-map"
GRIDS = "wall-grids"
TOWNSHIPS = "wall-townships"
CENTERS = "wall-centers"
KPIS = "wall-kpis"
UPDATED = "wall-updated"
FRESHNESS = "wall-freshness"
LAST_OK = "wall-last-ok"
LEGEND = "wall-legend"
TITLE = "wall-title"
SCREEN = "wall-screen"


def kpi(name: str) -> str:
    return f"kpi-{name}"
