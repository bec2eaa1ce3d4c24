"""Wall screen callbacks: render once per URL, refresh values on a timer, flag stale data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from dash import Dash, Input, Output, Patch, State

from dashboard.runtime import Runtime
from dashboard.settings import LOCAL_TZ
from dashboard.wall_service import SnapshotCache, county_view
from dashboard.wall_snapshot import WallSnapshot, map_values, stale_after
from layouts import ids, wall
from layouts.kpi import KPI_NAMES, kpi_values


MAX_PERIOD_DAYS = 366 * 3


def screen_params(search: str | None, default_lang: str) -> dict[str, Any]:
    """URL parameters that configure a wall without clicks: ``?lang=en&county=220283&days=365``."""
    query = parse_qs((search or "").lstrip("?"))
    lang = query.get("lang", [default_lang])[0]
    raw_days = query.get("days", ["30"])[0]
    days = int(raw_days) if raw_days.isdigit() and 1 <= int(raw_days) <= MAX_PERIOD_DAYS else 30
    return {"lang": lang if lang in ("zh", "en") else default_lang, "county": query.get("county", [None])[0],
            "days": days}


def refresh_outputs(snapshot: WallSnapshot) -> tuple[Any, ...]:
    """Everything one refresh sends: KPI texts, map values (ids and numbers only), times."""
    texts = kpi_values(snapshot.figures)
    values = map_values(snapshot, sorted(snapshot.areas))
    grids, centers = Patch(), Patch()
    grids["values"] = values
    centers["values"] = values
    local = snapshot.computed_at.astimezone(LOCAL_TZ)
    last_ok = Patch()
    last_ok["at"] = snapshot.computed_at.timestamp() * 1000
    return (*(texts[name] for name in KPI_NAMES), grids, centers, local.strftime("%H:%M:%S"), last_ok)


def register(app: Dash, rt: Runtime, snapshots: SnapshotCache) -> None:
    stale_ms = int(stale_after(rt.settings.refresh_seconds).total_seconds() * 1000)

    @app.callback(Output(wall.PAGE, "children"), Input(wall.URL, "search"))
    def render(search: str | None) -> list[object]:
        params = screen_params(search, rt.settings.language)
        code, name, bounds = county_view(rt, params["county"])
        return wall.wall(county=code, county_name=name, bounds=bounds, lang=params["lang"], days=params["days"],
                         refresh_ms=int(rt.settings.refresh_seconds * 1000), stale_ms=stale_ms,
                         tile_url=rt.settings.tile_url, tile_attribution=rt.settings.tile_attribution)

    @app.callback(
        *(Output(ids.kpi(name), "children") for name in KPI_NAMES),
        Output(ids.GRIDS, "hideout"),
        Output(ids.CENTERS, "hideout"),
        Output(ids.UPDATED, "children"),
        Output(ids.LAST_OK, "data"),
        Input(ids.REFRESH, "n_intervals"),
        State(ids.SCREEN, "data"),
    )
    def refresh(_tick: int, screen: dict[str, Any]) -> tuple[Any, ...]:
        return refresh_outputs(snapshots.get(screen["county"], datetime.now(UTC), period_days=screen["days"]))

    app.clientside_callback(
        "function(tick, lastOk) { return window.mediationMap.freshness(lastOk); }",
        Output(ids.FRESHNESS, "className"),
        Output(ids.FRESHNESS, "children"),
        Input(ids.FRESHNESS_TICK, "n_intervals"),
        State(ids.LAST_OK, "data"),
    )
