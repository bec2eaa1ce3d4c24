"""Wall screen callbacks: render once per URL. Live values bypass callbacks (see live.js)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from dash import Dash, Input, Output

from dashboard.runtime import Runtime
from dashboard.wall_service import county_view
from dashboard.wall_snapshot import stale_after
from layouts import wall

MAX_PERIOD_DAYS = 366 * 3


def screen_params(search: str | None, default_lang: str) -> dict[str, Any]:
    """URL parameters that configure a wall without clicks: ``?lang=en&county=220283&days=365``."""
    query = parse_qs((search or "").lstrip("?"))
    lang = query.get("lang", [default_lang])[0]
    raw_days = query.get("days", ["30"])[0]
    days = int(raw_days) if raw_days.isdigit() and 1 <= int(raw_days) <= MAX_PERIOD_DAYS else 30
    return {"lang": lang if lang in ("zh", "en") else default_lang, "county": query.get("county", [None])[0],
            "days": days}


def register(app: Dash, rt: Runtime, *, build: str) -> None:
    stale_ms = int(stale_after(rt.settings.refresh_seconds).total_seconds() * 1000)

    @app.callback(Output(wall.PAGE, "children"), Input(wall.URL, "search"))
    def render(search: str | None) -> list[object]:
        params = screen_params(search, rt.settings.language)
        code, name, bounds = county_view(rt, params["county"])
        return wall.wall(county=code, county_name=name, bounds=bounds, lang=params["lang"], days=params["days"],
                         stale_ms=stale_ms, build=build, tile_url=rt.settings.tile_url,
                         tile_attribution=rt.settings.tile_attribution)
