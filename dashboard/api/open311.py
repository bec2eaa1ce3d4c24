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
from dashboard.api.grid_lookup import GridLookup, Placed
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
from dashboard.domain.area_scope import contains
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

    def counties_of(self, session: Session, who: ApiClient | None) -> list[str]:
        """The served counties a client may post to and read: those inside its area
        (``ApiClient.area_code``); every served county for a client bound to none, or a reader
        without a key."""
        area = who.area_code if who is not None else None
        return [c for c in self.rt.served_counties(session) if contains(area, c)]

    def default_county(self, counties: list[str]) -> str:
        """The county a read naming no jurisdiction lists: the deployment's default county when the
        reader may read it, else the first of ``counties``; 404 when there is none."""
        if not counties:
            raise Open311Error(404, "no county served here for this api_key")
        default = self.rt.cases.county_code
        return default if default in counties else counties[0]

    def locate(self, session: Session, submission: Submission, counties: list[str]) -> Placed:
        """The county and grid of a report among ``counties``: by its grid code (a county's grids
        start with its code) or by lat/long (``GridLookup.place``), refused in Open311's words."""
        try:
            return self.grids.place(session, counties, grid_code=submission.grid_code, lon=submission.long,
                                    lat=submission.lat)
        except FieldError as error:
            if error.code == "outside_county":
                where = f"county {counties[0]}" if len(counties) == 1 else "the counties served for this api_key"
                raise Open311Error(400, f"lat/long lies outside every grid of {where}") from None
            if error.code == "location_mismatch":
                raise Open311Error(400, f"lat/long {error.message.removeprefix('the point ')}, "
                                        f"not in attribute[grid_code] {submission.grid_code}") from None
            raise

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
        counties = self.counties_of(session, who)
        named = check_jurisdiction(field_text(fields, "jurisdiction_id"), counties)
        submission = parse_submission(fields)
        placed = self.locate(session, submission, [named] if named is not None else counties)
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
                          grid_code=placed.grid, description=submission.description, lon=submission.long,
                          lat=submission.lat)
        case, created = personal_data.submit(self.rt, draft, submission.party, actor=who.name, now=now,
                                             session=session, county=placed.county)
        if not created and case.county_code not in counties:  # another client of the same source, elsewhere
            raise Open311Error(400, "attribute[external_ref] already names a request outside this api_key's area")
        return case, created

    def keyed(self, session: Session, api_key: str | None) -> ApiClient | None:
        """A read with an ``api_key`` must name an active client (403 otherwise); it then gets masked
        text. The client, or ``None`` for a read without a key."""
        if api_key is None or not api_key.strip():
            return None
        return self.client_of(session, api_key.strip())

    def read_out(self, session: Session, found: Sequence[Case], keyed: bool, county: str) -> list[dict[str, object]]:
        """The cases (all of ``county``) as service requests; a keyed reader's descriptions are masked
        against the name of every party the county has recorded, so no case's text names the party
        of another."""
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
            if jurisdiction_id:
                check_jurisdiction(jurisdiction_id, rt.served_counties())
            body = services_out()
            return _answer(fmt, body, services_xml(body) if fmt == "xml" else None)
        return guarded(answer, fmt)

    @router.get(f"/services/{{service_code}}.{fmt}", name=f"open311_service_definition_{fmt}", **answers)
    def service_definition(service_code: str, jurisdiction_id: Annotated[str | None, Query()] = None) -> Response:
        """The attributes a request of this service may carry."""
        def answer() -> Response:
            if jurisdiction_id:
                check_jurisdiction(jurisdiction_id, rt.served_counties())
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
        """Service requests of one county (``jurisdiction_id``, default: the deployment's default
        county), newest first: the last 90 days unless dated, at most 1000, at most 50 by id.
        Without api_key: no description and no status notes; with one: the description masked."""
        def answer() -> Response:
            keyed = work.keyed(session, api_key)
            counties = work.counties_of(session, keyed)
            county = check_jurisdiction(jurisdiction_id, counties) or work.default_county(counties)
            query = request_query(service_request_id=service_request_id, service_code=service_code, status=status,
                                  start_date=start_date, end_date=end_date, now=now_of())
            found = cases.find(session, county, ids=query.ids, categories=[c.value for c in query.categories],
                               closed=query.closed, start=query.start, end=query.end, limit=MAX_RESULTS)
            body = work.read_out(session, found, keyed is not None, county)
            return _answer(fmt, body, requests_xml(body) if fmt == "xml" else None)
        return guarded(answer, fmt)

    @router.get(f"/requests/{{service_request_id}}.{fmt}", name=f"open311_get_request_{fmt}", **answers)
    def get_request(service_request_id: str, jurisdiction_id: Annotated[str | None, Query()] = None,
                    api_key: Annotated[str | None, Query()] = None, session: Session = sessions) -> Response:
        """One service request, as a one-element list (like the JSON array, ``<service_requests>`` in XML)."""
        def answer() -> Response:
            keyed = work.keyed(session, api_key)
            counties = work.counties_of(session, keyed)
            named = check_jurisdiction(jurisdiction_id, counties)
            case = cases.get(session, int(service_request_id)) if is_request_id(service_request_id) else None
            if case is None or case.county_code not in counties or named not in (None, case.county_code):
                raise Open311Error(404, f"no service request {service_request_id!r}")
            body = work.read_out(session, [case], keyed is not None, case.county_code)
            return _answer(fmt, body, requests_xml(body) if fmt == "xml" else None)
        return guarded(answer, fmt)
