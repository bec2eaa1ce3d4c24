"""Read endpoints for integrators and operations: status and web geometry."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard import __version__
from dashboard.access.auth import current_user
from dashboard.api.errors import ApiError
from dashboard.api.request_session import session_dependency
from dashboard.cases import demo_growth
from dashboard.runtime import Runtime
from dashboard.api.web_geometry import GeometryCache, geo_response
from data_access import areas, cases


def build_api(rt: Runtime, geometry: GeometryCache) -> APIRouter:
    router = APIRouter(prefix="/api")
    db_session = session_dependency(rt.sessions)

    @router.get("/status")
    def status(session: Session = Depends(db_session)) -> JSONResponse:
        """Liveness for ops: version, reachability of database and Redis; for a signed-in caller also
        what is loaded (case counts are no one else's business)."""
        body: dict[str, object] = {"version": __version__, "database": False, "redis": False}
        try:
            session.execute(text("SELECT 1"))
            body["database"] = True
            county = areas.get_county(session, rt.settings.county_code) if current_user() else None
            if county is not None:
                body["county"] = {"code": county.code, "name": county.name}
                body["counts"] = {**areas.count_rows(session, county.code), "cases": cases.count(session, county.code)}
                last = cases.last_event_at(session)
                body["last_event_at"] = last.isoformat() if last else None
                if (growth := demo_growth.read(rt.settings.var_dir)) is not None:
                    body["demo_growth"] = growth  # the demo's city filling in (dashboard.cases.demo_growth)
        except Exception as error:  # noqa: BLE001 - the status page reports, never raises
            body["database_error"] = type(error).__name__
        try:
            body["redis"] = bool(rt.redis.ping())
        except Exception as error:  # noqa: BLE001
            body["redis_error"] = type(error).__name__
        healthy = body["database"] and body["redis"]
        return JSONResponse(body, status_code=200 if healthy else 503)

    @router.get("/geo/{layer}.geojson")
    def geo_layer(layer: str, request: Request, county: str | None = Query(default=None),
                  session: Session = Depends(db_session)) -> Response:
        """Simplified WGS84 geometry (generated areas are marked ``generated: true``)."""
        record = areas.get_county(session, county or rt.settings.county_code)
        if record is None and county is None:
            return ApiError(404, "no_county", "county", "no county imported").response()
        code = record.code if record is not None else county
        payload = geometry.get(session, code, layer)
        if payload is None:
            return ApiError(404, "not_found", "county", f"no layer {layer!r} for county {code!r}").response()
        return geo_response(request, payload)

    return router
