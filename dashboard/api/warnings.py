"""``GET /api/warnings?area=CODE``: the open early warnings of an area (DESIGN.md "Early warning").

For a leader, a duty officer or an admin (``access.auth.RULES``); the area must be a served
county, lie inside one, or be a city or province holding served counties (their warnings
together), and lie inside the caller's area, else 404 as for any area we do not serve.
Each warning gives its area, category, window, observed and expected counts, p-value and reason
text; counts and place names only, never a person.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from dashboard.access.scope import caller_sees
from dashboard.api.errors import ApiError
from dashboard.api.request_session import session_dependency
from dashboard.domain.area_scope import ScopeLevel, contains, level_of
from dashboard.runtime import Runtime
from dashboard.warnings import service
from data_access import areas
from data_access import warnings as store


def build_warnings_router(rt: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api")
    db_session = session_dependency(rt.sessions)

    @router.get("/warnings")
    def get_warnings(area: Annotated[str | None, Query(max_length=24, pattern=r"^[0-9]{6,24}$")] = None,
                     limit: Annotated[int, Query(ge=1, le=store.MAX_LISTED)] = 50,
                     session: Session = Depends(db_session)) -> dict[str, object]:
        code = area or rt.cases.county_code
        served = rt.served_counties()  # issue 17: any served county, or a city or province of them
        region = level_of(code) in (ScopeLevel.city, ScopeLevel.province)
        counties = [c for c in served if contains(code, c)] if region else [c for c in served if c == code[:6]]
        county = counties[0] if counties else rt.cases.county_code
        if not counties or not caller_sees(code) or not (region or areas.area_exists(session, county, code)):
            raise ApiError(404, "not_found", "area", f"no area {code!r} is served here")
        rows = sorted((w for c in counties for w in service.open_in(session, c, None if region else code, limit=limit)),
                      key=lambda w: w.p_value)[:limit]
        return {"county": None if region else county, "area": code, "count": len(rows),
                "warnings": [w.as_json() for w in rows]}

    return router
