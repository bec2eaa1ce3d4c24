"""Open311 GeoReport v2 over our cases, in XML (the specification's required format) and JSON,
for citizen apps and hotlines that already speak it.

Every route answers by its extension, ``.xml`` or ``.json`` (``open311_xml`` builds the XML).
Open311 clients expect their own error shape (``open311_errors``) and form-encoded POSTs, while
the app renders pydantic's validation errors in the ingest API's shape. So this router reads and
validates its input itself (``open311_input``) and answers every refusal inside its routes, in
the format asked for: an Open311 client never sees ``{"errors": [...]}``, and no other route
changes behaviour. Each request uses one database session (``request_session``).

Reads are public; what they carry is decided in ``open311_format`` (no free text without a
valid ``api_key``, positions rounded). A POST's retry is recognised by the client's own id
(``attribute[external_ref]`` or an ``Idempotency-Key`` header) or else by its content and
reporter within :data:`open311_input.RETRY_WINDOW`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from dashboard.access.tokens import token_hash
from dashboard.api.grid_lookup import GridLookup
from dashboard.api.open311_errors import Open311Error, guarded, open311_response
from dashboard.api.open311_format import (
    CHANGESET,
    CONTACT,
    FORMATS_LISTED,
    KEY_SERVICE,
    SPECIFICATION,
    definition_out,
    request_out,
    requests_out,
    service_notice,
    services_out,
)
from dashboard.api.open311_input import (
    MAX_RESULTS,
    RETRY_WINDOW,
    SUBMISSION_OPENAPI,
    SUBMISSION_RESPONSES,
    XML_SUBMISSION_RESPONSES,
    Submission,
    category_of,
    check_jurisdiction,
    derived_refs,
    field_text,
    idempotency_key,
    is_request_id,
    keyed_ref,
    parse_submission,
    parse_w3c,
    read_fields,
    request_query,
)
from dashboard.api.open311_xml import (
    FORMATS,
    XMLResponse,
    definition_xml,
    discovery_xml,
    requests_xml,
    services_xml,
    xml_response,
)
from dashboard.api.request_session import session_dependency
from dashboard.cases import personal_data
from dashboard.cases.casework import CaseDraft
from dashboard.domain.clock import Clock
from dashboard.domain.errors import FieldError
from dashboard.domain.masking import KnownNames
from dashboard.domain.vocabulary import Source
from dashboard.runtime import Runtime
from data_access import api_clients, cases, party_names
from data_access.models import ApiClient, Case

__all__ = ["PREFIX", "Open311Error", "build_open311_api", "category_of", "derived_refs",
           "parse_submission", "parse_w3c", "request_out", "request_query", "services_out"]

PREFIX = "/open311/v2"


def _answer(fmt: str, value: object, xml: bytes | None, status_code: int = 200) -> Response:
    if fmt == "xml":
        assert xml is not None
        return xml_response(xml, status_code)
    return JSONResponse(value, status_code=status_code)


class Open311Work:
    """What the routes of both formats do, in the request's one database session."""

    def __init__(self, rt: Runtime, clock: Clock, grids: GridLookup) -> None:
        self.rt, self.now_of, self.grids = rt, clock, grids
        self._names: tuple[tuple[str, int, int], KnownNames] | None = None

    def known_names(self, session: Session, county: str) -> KnownNames:
        """Every party name of the county, built again only when a case was added (building it for
        26,000 cases takes about 0.1 s; the check, one aggregate query)."""
        version = (county, *party_names.names_version(session, county))
        cached = self._names
        if cached is None or cached[0] != version:
            cached = (version, KnownNames.of(party_names.party_names(session, county)))
            self._names = cached
        return cached[1]

    @staticmethod
    def client_of(session: Session, api_key: str) -> ApiClient:
        found = api_clients.find_active(session, token_hash(api_key))
        if found is None:
            raise Open311Error(403, "api_key is unknown or revoked")
        return found

    def locate(self, session: Session, submission: Submission, county: str) -> str:
        if submission.lat is None or submission.long is None:
            assert submission.grid_code is not None
            return submission.grid_code
        located = self.grids.locate(session, county, submission.long, submission.lat)
        if located is None:
            raise Open311Error(400, f"lat/long lies outside every grid of county {county}")
        if submission.grid_code is not None and submission.grid_code != located:
            raise Open311Error(400, f"lat/long lies in grid {located}, not in attribute[grid_code] {submission.grid_code}")
        return located

    @staticmethod
    def recent_retry(session: Session, source: str, ref: str, now: datetime) -> Case | None:
        """The case a report without an id of its own repeats, if it came within ``RETRY_WINDOW``."""
        earlier = cases.get_by_source_ref(session, source, ref)
        return earlier if earlier is not None and now - earlier.received_at <= RETRY_WINDOW else None

    def submit(self, session: Session, fields: Mapping[str, str], key: str | None) -> tuple[Case, bool]:
        """Write a POSTed report; ``key``: the client's ``Idempotency-Key``. Returns the case and whether it is new."""
        api_key = field_text(fields, "api_key")
        if api_key is None:
            raise Open311Error(403, "api_key is required to post a service request")
        who = self.client_of(session, api_key)
        county = self.rt.cases.county_code
        check_jurisdiction(field_text(fields, "jurisdiction_id"), county)
        submission = parse_submission(fields)
        grid = self.locate(session, submission, county)
        now = self.now_of()
        if submission.external_ref is not None:
            ref = submission.external_ref
        elif key is not None:
            ref = keyed_ref(who.id, key)
        else:
            ref, previous_minute = derived_refs(who.id, submission, now)
            earlier = self.recent_retry(session, who.source, previous_minute, now)
            if earlier is not None:
                return earlier, False
        draft = CaseDraft(source=Source(who.source), external_ref=ref, category=submission.category, received_at=now,
                          grid_code=grid, description=submission.description, lon=submission.long, lat=submission.lat)
        return personal_data.submit(self.rt, draft, submission.party, actor=who.name, now=now, session=session)

    def keyed(self, session: Session, api_key: str | None) -> bool:
        """A read with an ``api_key`` must name an active client (403 otherwise); it then gets masked text."""
        if api_key is None or not api_key.strip():
            return False
        self.client_of(session, api_key.strip())
        return True

    def read_out(self, session: Session, found: Sequence[Case], keyed: bool) -> list[dict[str, object]]:
        """The cases as service requests; a keyed reader's descriptions are masked against the name of
        every party the county has recorded, so no case's text names the party of another."""
        county = self.rt.cases.county_code
        unplaced = any(c.lon is None or c.lat is None for c in found)
        points = self.grids.points(session, county) if unplaced else {}
        names = self.known_names(session, county) if keyed and found else None
        return requests_out(found, points, names=names)


def build_open311_api(rt: Runtime, clock: Clock | None = None, lookup: GridLookup | None = None) -> APIRouter:
    """The GeoReport v2 routes in XML and JSON; ``clock`` (default: the runtime's) lets tests pin the retry window."""
    router = APIRouter(prefix=PREFIX, tags=["open311"])
    work = Open311Work(rt, clock or rt.clock, lookup or GridLookup())
    db_session = session_dependency(lambda: rt.sessions())
    for fmt in FORMATS:
        _routes(router, fmt, work, Depends(db_session))

    @router.get("/{rest:path}", include_in_schema=False)
    def unknown(rest: str) -> Response:
        """Anything else under the prefix gets an Open311 404 (in XML for a ``.xml`` path), not the screens' page."""
        fmt = "xml" if rest.endswith(".xml") else "json"
        return Open311Error(404, f"no resource {rest!r}; this endpoint serves GeoReport v2 as .xml and .json").response(fmt)

    return router


def _routes(router: APIRouter, fmt: str, work: Open311Work, sessions: Any) -> None:
    """The routes of one format (``xml`` or ``json``): the same work, answered by ``_answer``.
    ``sessions`` is the ``Depends`` that gives each request its one database session."""
    rt, now_of = work.rt, work.now_of
    answers = {"response_class": XMLResponse if fmt == "xml" else JSONResponse}

    @router.get(f"/discovery.{fmt}", name=f"open311_discovery_{fmt}", **answers)
    def discovery(request: Request) -> Response:
        """Where and how this endpoint speaks GeoReport v2, and in which formats."""
        base = str(request.base_url).rstrip("/")
        body: dict[str, object] = {
            "changeset": CHANGESET, "contact": CONTACT, "key_service": KEY_SERVICE,
            "endpoints": [{"specification": SPECIFICATION, "url": base + PREFIX, "changeset": CHANGESET,
                           "type": "production", "formats": list(FORMATS_LISTED)}],
        }
        return _answer(fmt, body, discovery_xml(body) if fmt == "xml" else None)

    @router.get(f"/services.{fmt}", name=f"open311_services_{fmt}", **answers)
    def services(jurisdiction_id: Annotated[str | None, Query()] = None) -> Response:
        """One service per case category."""
        def answer() -> Response:
            check_jurisdiction(jurisdiction_id, rt.cases.county_code)
            body = services_out()
            return _answer(fmt, body, services_xml(body) if fmt == "xml" else None)
        return guarded(answer, fmt)

    @router.get(f"/services/{{service_code}}.{fmt}", name=f"open311_service_definition_{fmt}", **answers)
    def service_definition(service_code: str, jurisdiction_id: Annotated[str | None, Query()] = None) -> Response:
        """The attributes a request of this service may carry."""
        def answer() -> Response:
            check_jurisdiction(jurisdiction_id, rt.cases.county_code)
            try:
                category = category_of(service_code)
            except Open311Error:
                raise Open311Error(404, f"no service {service_code!r}") from None
            body = definition_out(category)
            return _answer(fmt, body, definition_xml(body) if fmt == "xml" else None)
        return guarded(answer, fmt)

    @router.post(f"/requests.{fmt}", openapi_extra=SUBMISSION_OPENAPI, status_code=201,
                 responses=XML_SUBMISSION_RESPONSES if fmt == "xml" else SUBMISSION_RESPONSES,
                 name=f"open311_post_request_{fmt}", **answers)
    async def post_request(request: Request, session: Session = sessions) -> Response:
        """Report a case; a retry (same attribute[external_ref] or Idempotency-Key, or the same report from the
        same reporter within a minute) returns the first case."""
        try:
            key = idempotency_key(request.headers)
            fields = await read_fields(request)
            case, created = await run_in_threadpool(work.submit, session, fields, key)
        except (Open311Error, FieldError) as error:
            return open311_response(error, fmt)
        body = [{"service_request_id": str(case.id), "service_notice": service_notice(case), "account_id": None}]
        return _answer(fmt, body, requests_xml(body) if fmt == "xml" else None, 201 if created else 200)

    @router.get(f"/requests.{fmt}", name=f"open311_get_requests_{fmt}", **answers)
    def get_requests(
        jurisdiction_id: Annotated[str | None, Query()] = None,
        service_request_id: Annotated[str | None, Query()] = None,
        service_code: Annotated[str | None, Query()] = None,
        start_date: Annotated[str | None, Query()] = None,
        end_date: Annotated[str | None, Query()] = None,
        status: Annotated[str | None, Query()] = None,
        api_key: Annotated[str | None, Query()] = None,
        session: Session = sessions,
    ) -> Response:
        """Service requests, newest first: the last 90 days unless dated, at most 1000, at most 50 by id.
        Without api_key: no description and no status notes; with one: the description masked."""
        def answer() -> Response:
            county = rt.cases.county_code
            check_jurisdiction(jurisdiction_id, county)
            query = request_query(service_request_id=service_request_id, service_code=service_code, status=status,
                                  start_date=start_date, end_date=end_date, now=now_of())
            keyed = work.keyed(session, api_key)
            found = cases.find(session, county, ids=query.ids, categories=[c.value for c in query.categories],
                               closed=query.closed, start=query.start, end=query.end, limit=MAX_RESULTS)
            body = work.read_out(session, found, keyed)
            return _answer(fmt, body, requests_xml(body) if fmt == "xml" else None)
        return guarded(answer, fmt)

    @router.get(f"/requests/{{service_request_id}}.{fmt}", name=f"open311_get_request_{fmt}", **answers)
    def get_request(service_request_id: str, jurisdiction_id: Annotated[str | None, Query()] = None,
                    api_key: Annotated[str | None, Query()] = None, session: Session = sessions) -> Response:
        """One service request, as a one-element list (like the JSON array, ``<service_requests>`` in XML)."""
        def answer() -> Response:
            county = rt.cases.county_code
            check_jurisdiction(jurisdiction_id, county)
            keyed = work.keyed(session, api_key)
            case = cases.get(session, int(service_request_id)) if is_request_id(service_request_id) else None
            if case is None or case.county_code != county:
                raise Open311Error(404, f"no service request {service_request_id!r}")
            body = work.read_out(session, [case], keyed)
            return _answer(fmt, body, requests_xml(body) if fmt == "xml" else None)
        return guarded(answer, fmt)
