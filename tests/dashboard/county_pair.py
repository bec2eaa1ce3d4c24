"""Two small counties of one city side by side, for the tests of a deployment serving several.

Each is the small test county (``tests.factories.small_county``: 2 townships × 2 villages × 2
grids of 0.1° squares) under its own code, imported through the real onboarding code; the second
lies one degree east of the first, so a point places a case in exactly one of them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import shapely
from shapely.geometry import box

from dashboard.access.tokens import new_token, token_hash
from dashboard.imports import onboarding
from dashboard.runtime import Runtime
from data_access import api_clients
from tests.factories import COUNTY, small_county, small_county_at

WEST, EAST = "220282", "220283"
"""Two county codes of city 220200 (吉林市): 桦甸市 and 舒兰市."""
CITY = "220200"
OFFSETS = {WEST: 0.0, EAST: 1.0}
"""Degrees of longitude each county lies east of the small test county (127.0–127.8 E, 44.0–44.2 N)."""


county_like_small = small_county_at


def import_pair(rt: Runtime) -> tuple[str, str]:
    """Import both counties; returns (west, east)."""
    for code, dx in OFFSETS.items():
        outline = shapely.to_geojson(box(127.0 + dx, 44.0, 127.8 + dx, 44.2))
        with rt.sessions() as session, session.begin():
            onboarding.save_county(session, county_like_small(code, dx), name=f"测试县{code}",
                                   now=datetime(2026, 1, 1, tzinfo=UTC), outline_geojson=outline)
    return WEST, EAST


def grid_of(county: str, n: int = 0) -> str:
    """The ``n``-th grid code (of 8) of one of the pair."""
    return county + [g.code for g in small_county().grids][n % 8][len(COUNTY):]


def point_in(county: str) -> dict[str, float]:
    """A point inside the first grid of one of the pair (``grid_of(county, 0)``)."""
    return {"lon": 127.05 + OFFSETS[county], "lat": 44.05}


def source_token(rt: Runtime, name: str, *, area: str | None, source: str = "hotline_12345") -> str:
    """A source system bound to ``area`` (``None``: every served county); returns its bearer token."""
    token = new_token()
    with rt.sessions() as session, session.begin():
        api_clients.create(session, name=name, source=source, token_hash=token_hash(token), now=datetime.now(UTC),
                           area_code=area)
    return token
