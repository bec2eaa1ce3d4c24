"""Open311 GeoReport v2 (JSON) over our cases, for citizen apps and hotlines that already speak it.

Open311 clients expect their own error shape (``open311_errors``) and form-encoded POSTs, while
the app renders pydantic's validation errors in the ingest API's shape. So this router reads and
validates its input itself (``open311_input``) and answers every refusal inside its routes: an
Open311 client never sees ``{"errors": [...]}``, and no other route changes behaviour. Each
request uses one database session (``request_session``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dashboard.access.tokens import token_hash
from dashboard.api.grid_lookup import GridLookup
from dashboard.api.open311_errors import Open311Error, guarded, open311_response
from dashboard.api.open311_format import (
    CHANGESET,
    CONTACT,
    KEY_SERVICE,
    SPECIFICATION,
    request_out,
    service_notice,
    services_out,
)
from dashboard.api.open311_input import (
    MAX_RESULTS,
    SUBMISSION_OPENAPI,
    SUBMISSION_RESPONSES,
    Submission,
    field_text,
    category_of,
    check_jurisdiction,
    derived_ref,
    is_request_id,
    parse_submission,
    parse_w3c,
    read_fields,
    request_query,
)
from dashboard.api.request_session import session_dependency
from dashboard.cases import personal_data
from dashboard.cases.casework import CaseDraft
from dashboard.domain.clock import Clock
from dashboard.domain.errors import FieldError
from dashboard.domain.vocabulary import Source
from dashboard.runtime import Runtime
from data_access import api_clients, cases
from data_access.models import ApiClient, Case

__all__ = ["PREFIX", "Open311Error", "build_open311_api", "category_of", "derived_ref",
           "parse_submission", "parse_w3c", "request_out", "request_query", "services_out"]

PREFIX = "/open311/v2"


def build_open311_api(rt: Runtime, clock: Clock | None = None, lookup: GridLookup | None = None) -> APIRouter:
    """The GeoReport v2 routes; ``clock`` (default: the runtime's) lets tests pin the retry window."""
    router = APIRouter(prefix=PREFIX, tags=["open311"])
    now_of = clock or rt.clock
    grids = lookup or GridLookup()
    db_session = session_dependency(lambda: rt.sessions())

    def authenticate(session: Session, api_key: str | None) -> ApiClient:
        if not api_key:
            raise Open311Error(403, "api_key is required to post a service request")
        found = api_clients.find_active(session, token_hash(api_key))
        if found is None:
            raise Open311Error(403, "api_key is unknown or revoked")
        return found

    def locate(session: Session, submission: Submission, county: str) -> str:
        if submission.lat is None or submission.long is None:
            assert submission.grid_code is not None
            return submission.grid_code
        located = grids.locate(session, county, submission.long, submission.lat)
        if located is None:
            raise Open311Error(400, f"lat/long lies outside every grid of county {county}")
        if submission.grid_code is not None and submission.grid_code != located:
            raise Open311Error(400, f"lat/long lies in grid {located}, not in attribute[grid_code] {submission.grid_code}")
        return located

    def submit(session: Session, fields: Mapping[str, str]) -> tuple[Case, bool]:
        who = authenticate(session, field_text(fields, "api_key"))
        county = rt.cases.county_code
        check_jurisdiction(field_text(fields, "jurisdiction_id"), county)
        submission = parse_submission(fields)
        grid = locate(session, submission, county)
        now = now_of()
        ref = submission.external_ref or derived_ref(
            who.id, submission.category.value, submission.lat, submission.long, submission.grid_code,
            submission.description, now)
        draft = CaseDraft(source=Source(who.source), external_ref=ref, category=submission.category, received_at=now,
                          grid_code=grid, description=submission.description, lon=submission.long, lat=submission.lat)
        return personal_data.submit(rt, draft, submission.party, actor=who.name, now=now, session=session)

    def requests_out(session: Session, found: Sequence[Case]) -> list[dict[str, object]]:
        unplaced = any(c.lon is None or c.lat is None for c in found)
        points = grids.points(session, rt.cases.county_code) if unplaced else {}
        return [request_out(case, points.get(case.grid_code)) for case in found]

    @router.get("/discovery.json")
    def discovery(request: Request) -> JSONResponse:
        """Where and how this endpoint speaks GeoReport v2."""
        base = str(request.base_url).rstrip("/")
        return JSONResponse({
            "changeset": CHANGESET, "contact": CONTACT, "key_service": KEY_SERVICE,
            "endpoints": [{"specification": SPECIFICATION, "url": base + PREFIX, "changeset": CHANGESET,
                           "type": "production", "formats": ["application/json"]}],
        })

    @router.get("/services.json")
    def services(jurisdiction_id: Annotated[str | None, Query()] = None) -> JSONResponse:
        """One service per case category."""
        def work() -> JSONResponse:
            check_jurisdiction(jurisdiction_id, rt.cases.county_code)
            return JSONResponse(services_out())
        return guarded(work)

    @router.post("/requests.json", openapi_extra=SUBMISSION_OPENAPI, responses=SUBMISSION_RESPONSES,
                 status_code=201)
    async def post_request(request: Request, session: Session = Depends(db_session)) -> JSONResponse:
        """Report a case; a retry within the minute (or with the same attribute[external_ref]) returns the first case."""
        try:
            fields = await read_fields(request)
            case, created = await run_in_threadpool(submit, session, fields)
        except (Open311Error, FieldError) as error:
            return open311_response(error)
        body = [{"service_request_id": str(case.id), "service_notice": service_notice(case), "account_id": None}]
        return JSONResponse(body, status_code=201 if created else 200)

    @router.get("/requests.json")
    def get_requests(
        jurisdiction_id: Annotated[str | None, Query()] = None,
        service_request_id: Annotated[str | None, Query()] = None,
        service_code: Annotated[str | None, Query()] = None,
        start_date: Annotated[str | None, Query()] = None,
        end_date: Annotated[str | None, Query()] = None,
        status: Annotated[str | None, Query()] = None,
        session: Session = Depends(db_session),
    ) -> JSONResponse:
        """Service requests, newest first: the last 90 days unless dated, at most 1000."""
        def work() -> JSONResponse:
            county = rt.cases.county_code
            check_jurisdiction(jurisdiction_id, county)
            query = request_query(service_request_id=service_request_id, service_code=service_code, status=status,
                                  start_date=start_date, end_date=end_date, now=now_of())
            found = cases.find(session, county, ids=query.ids, categories=[c.value for c in query.categories],
                               closed=query.closed, start=query.start, end=query.end, limit=MAX_RESULTS)
            return JSONResponse(requests_out(session, found))
        return guarded(work)

    @router.get("/requests/{service_request_id}.json")
    def get_request(service_request_id: str, jurisdiction_id: Annotated[str | None, Query()] = None,
                    session: Session = Depends(db_session)) -> JSONResponse:
        """One service request, as a one-element array."""
        def work() -> JSONResponse:
            county = rt.cases.county_code
            check_jurisdiction(jurisdiction_id, county)
            case = cases.get(session, int(service_request_id)) if is_request_id(service_request_id) else None
            if case is None or case.county_code != county:
                raise Open311Error(404, f"no service request {service_request_id!r}")
            return JSONResponse(requests_out(session, [case]))
        return guarded(work)

    @router.get("/{rest:path}", include_in_schema=False)
    def unknown(rest: str) -> JSONResponse:
        """Anything else under the prefix (e.g. the .xml formats) gets an Open311 404, not the screens' page."""
        return Open311Error(404, f"no resource {rest!r}; this endpoint serves GeoReport v2 in JSON (.json) only").response()

    return router
