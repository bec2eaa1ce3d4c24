"""``GET /api/warnings?area=CODE``: the open early warnings of an area (DESIGN.md "Early warning").

For a leader, a duty officer or an admin (``access.auth.RULES``); the area must be the served
county or lie inside it, and inside the caller's area, else 404 as for any area we do not serve.
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
from dashboard.domain.area_scope import contains
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
        county = rt.cases.county_code
        code = area or county
        if not contains(county, code) or not caller_sees(code) or not areas.area_exists(session, county, code):
            raise ApiError(404, "not_found", "area", f"no area {code!r} in county {county}")
        rows = service.open_in(session, county, code, limit=limit)
        return {"county": county, "area": code, "count": len(rows), "warnings": [w.as_json() for w in rows]}

    return router
