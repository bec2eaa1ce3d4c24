"""Ingest API: source systems post cases and status changes; integrators read cases, alerts, figures.

Each request uses one database session (``request_session``) and each write is one transaction:
a refused request leaves no trace. Refusals, the core's included, are answered in our one error
model (``dashboard.api.errors``): 4xx JSON ``{"errors": [{"code", "field", "message"}]}``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from dashboard.access.auth import READERS, REVEAL, Role, current_user
from dashboard.access.scope import caller_sees
from dashboard.access.tokens import token_hash
from dashboard.api.errors import ApiError
from dashboard.api.grid_lookup import GridLookup
from dashboard.api.request_session import session_dependency
from dashboard.api.schemas import AlertOut, CaseIn, CaseOut, DuplicateOut, ErrorBody, EventIn, EventOut, ReasonOut, RevealIn, RevealOut
from dashboard.cases import matters as matter_service
from dashboard.cases import personal_data
from dashboard.cases import reveal_quota
from dashboard.cases.casework import CaseDraft
from dashboard.domain.alerts import Alert, case_alert
from dashboard.domain.area_scope import contains
from dashboard.domain.contributions import case_facts
from dashboard.domain.labels import REASONS
from dashboard.domain.masking import mask_text
from dashboard.domain.periods import FIRST_DAY, LAST_DAY, Period
from dashboard.domain.vocabulary import AlertLevel, Source
from dashboard.runtime import Runtime
from dashboard.screens.area_figures import area_figures
from dashboard.screens import rollup
from dashboard.screens.matter_figures import add_matters
from data_access import api_clients, areas, audit, cases
from data_access.models import ApiClient, Case, CaseEvent, Center, Department

"""Source-system actions written to the audit log, as the duty console's are: who took a case on,
where it was sent, who chased it."""

ERRORS = {400: {"model": ErrorBody}, 401: {"model": ErrorBody}, 403: {"model": ErrorBody},
          404: {"model": ErrorBody}, 409: {"model": ErrorBody}, 413: {"model": ErrorBody}, 422: {"model": ErrorBody},
          503: {"model": ErrorBody, "description": "the database is unavailable; retry after Retry-After seconds"}}


def alert_now(case: Case, now: datetime, rt: Runtime) -> Alert | None:
    """The case's alert at ``now``, from its facts (levels move with the clock)."""
    return case_alert(case_facts(case), now=now, rules=rt.rules)


def stored_alert(case: Case) -> Alert | None:
    """The alert the write path computed and stored with the case (at the write's own now)."""
    if case.alert_level is None:
        return None
    return Alert(AlertLevel(case.alert_level), tuple(r for r in (case.alert_reasons or "").split(",") if r))


def alert_out(alert: Alert | None, lang: str = "zh") -> AlertOut | None:
    if alert is None:
        return None
    return AlertOut(level=alert.level, reasons=[ReasonOut(code=c, text=REASONS[c][lang]) for c in alert.reasons])


def case_out(case: Case, *, alert: Alert | None, with_events: bool = True, personal: bool = True) -> CaseOut:
    """The case as a reader sees it: personal data masked, in the fields and in the event notes
    (revealing is a separate, audited act), or with ``personal=False`` (a leader) none at all, not
    even masked: no party fields and no free-text notes. ``alert`` is its alert at the moment answered."""
    party = personal_data.party_of(case)
    return CaseOut(
        **(party.masked().as_dict() if personal else {}),
        id=case.id, source=case.source, external_ref=case.external_ref, category=case.category, status=case.status,
        tier=case.tier, county_code=case.county_code, township_code=case.township_code, village_code=case.village_code,
        grid_code=case.grid_code, people_involved=case.people_involved, received_at=case.received_at, due_at=case.due_at,
        resolved_at=case.resolved_at, resolved_tier=case.resolved_tier, satisfaction=case.satisfaction,
        escalated=case.escalated, supervised=case.supervised, first_receiver=case.first_receiver,
        alert=alert_out(alert),
        events=[EventOut(at=e.at, actor=e.actor, action=e.action, from_status=e.from_status, to_status=e.to_status,
                         note=mask_text(e.note, [party]) if personal else "") for e in case.events]
        if with_events else [],
    )


def build_ingest_api(rt: Runtime, lookup: GridLookup | None = None) -> APIRouter:
    """The ingest routes; each request uses one database session (``request_session``)."""
    router = APIRouter(prefix="/api", responses=ERRORS)  # type: ignore[arg-type]
    grids = lookup or GridLookup()
    db_session = session_dependency(lambda: rt.sessions())

    def client(request: Request, session: Session = Depends(db_session), authorization: Annotated[str | None, Header()] = None) -> ApiClient:
        """The source system of the Bearer token: the access gate already found it; a router
        mounted without the gate looks it up here."""
        known = getattr(request.state, "api_client", None)
        if known is not None:
            return known
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError(401, "unauthenticated", "Authorization", "send 'Authorization: Bearer <token>'")
        found = api_clients.find_active(session, token_hash(authorization.removeprefix("Bearer ").strip()))
        if found is None:
            raise ApiError(401, "unauthenticated", "Authorization", "unknown or revoked token")
        return found

    def reader(request: Request, session: Session = Depends(db_session), authorization: Annotated[str | None, Header()] = None,
               ) -> ApiClient | None:
        """A source system's token, or a signed-in leader, duty officer or admin."""
        if authorization is None:
            user = current_user()
            if user is not None and user.role in READERS and user.role != Role.api_client:
                return None
        return client(request, session, authorization)

    def personal_for_reader() -> bool:
        """Masked personal data for source systems, duty officers and admins; none for a leader."""
        user = current_user()
        return user is None or user.role != Role.leader

    def writable(session: Session, who: ApiClient) -> list[str]:
        """The served counties a source system may write to: those inside its area
        (``ApiClient.area_code``; ``None``: every served county). Read in the request's session."""
        return [c for c in rt.served_counties(session) if contains(who.area_code, c)]

    def draft_from(session: Session, body: CaseIn, source: Source, counties: list[str]) -> tuple[str, CaseDraft]:
        """The case's county among ``counties`` (from its grid code, else its point: ``GridLookup.place``)
        and the draft to write there; a point or grid outside them all is refused (422)."""
        loc = body.location
        placed = grids.place(session, counties, grid_code=loc.grid_code, lon=loc.lon, lat=loc.lat)
        return placed.county, CaseDraft(
            source=source, external_ref=body.external_ref, category=body.category, received_at=body.received_at,
            grid_code=placed.grid, tier=body.tier, people_involved=body.people_involved, description=body.description,
            lon=loc.lon, lat=loc.lat, risk_extreme=body.risk_extreme, risk_mass_incident=body.risk_mass_incident,
            beyond_county_petition=body.beyond_county_petition, repeat_petition=body.repeat_petition,
        )

    def check_place(session: Session, county: str, center_id: int | None, department_id: int | None) -> None:
        """A centre or department an event names must be the case's county's: an unknown id would fail
        the database's foreign key (a 500), another county's would send the case out of its county."""
        if center_id is None and department_id is None:
            return
        center = session.get(Center, center_id) if center_id is not None else None
        if center_id is not None and (center is None or center.county_code != county):
            raise ApiError(422, "invalid", "center_id", f"no centre {center_id} in county {county}")
        department = session.get(Department, department_id) if department_id is not None else None
        if department_id is not None and (department is None or department.center.county_code != county):
            raise ApiError(422, "invalid", "department_id", f"no department {department_id} in county {county}")

    @router.post("/cases", status_code=201, response_model=CaseOut)
    def post_case(body: CaseIn, session: Session = Depends(db_session), who: ApiClient = Depends(client)) -> JSONResponse:
        """Record a case. A repeat of the same external_ref returns the first case (200) and counts nothing twice."""
        now = rt.clock()
        counties = writable(session, who)
        county, draft = draft_from(session, body, Source(who.source), counties)
        party = personal_data.clean_party(body.party_name, body.party_phone, body.party_id_number, body.address)
        case, created = personal_data.submit(rt, draft, party, actor=body.received_by, now=now, session=session,
                                             county=county)
        if not created and case.county_code not in counties:  # another system of the same source, elsewhere
            raise ApiError(409, "conflict", "external_ref", "external_ref already names a case outside your area")
        out = case_out(case, alert=stored_alert(case) if created else alert_now(case, now, rt))
        return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)

    @router.post("/cases/{case_id}/events", status_code=201, response_model=CaseOut)
    def post_event(case_id: int, body: EventIn, request: Request, session: Session = Depends(db_session),
                   who: ApiClient = Depends(client)) -> CaseOut:
        """Move a case through the loop; an invalid transition is refused (409) and changes nothing.

        Every move a source system makes is audited in the transaction that writes the event: the
        event keeps ``actor`` as the system gave it, the audit entry names the authenticated client
        (the given actor goes in its detail as ``by``), so a source cannot pass its moves off as a
        person's.
        """
        now = rt.clock()
        ip = request.client.host if request.client else None

        def audited(db: Session, event: CaseEvent) -> None:
            detail = {"by": body.actor, "event": event.id,
                      **{k: v for k, v in (("center_id", body.center_id), ("department_id", body.department_id))
                         if v is not None}}
            audit.record(db, actor=who.name, role=Role.api_client.value, action=body.action.value,
                         target=f"case:{case_id}", detail=detail, ip=ip, at=event.at)

        case = cases.get(session, case_id)
        if case is None or case.county_code not in writable(session, who):
            raise ApiError(404, "not_found", "case_id", f"no case {case_id}")
        county = case.county_code
        check_place(session, county, body.center_id, body.department_id)
        if case.source != who.source and not rt.settings.sources_act_on_any_case:
            raise ApiError(403, "forbidden", "case_id", "a source system moves only the cases it reported")
        rt.case_service(county).act(case_id, body.action, actor=body.actor, at=body.at or now, note=body.note,
                                    session=session, also=audited,
                                    **{k: v for k, v in (("outcome", body.outcome), ("satisfaction", body.satisfaction),
                                                         ("center_id", body.center_id),
                                                         ("department_id", body.department_id))
                                       if v is not None})
        return read_case(session, case_id, who=who)

    def read_case(session: Session, case_id: int, *, personal: bool = True, who: ApiClient | None = None) -> CaseOut:
        case = cases.get(session, case_id)
        if case is None or not visible(case.county_code, who, rt.served_counties(session)):
            raise ApiError(404, "not_found", "case_id", f"no case {case_id}")
        out = case_out(case, alert=alert_now(case, rt.clock(), rt), personal=personal)
        out.matter_id, duplicates = matter_service.api_view(session, case.id)
        out.possible_duplicates = [DuplicateOut(**d) for d in duplicates]
        return out

    def visible(county: str, who: ApiClient | None = None, served: list[str] | None = None) -> bool:
        """Whether the caller may read what lies in ``county``: a source system the served counties
        (``served``, read when not given) inside its area (``ApiClient.area_code``, else the
        principal's); a person the counties of their area (``access.scope``); anything else is
        answered as not found."""
        user = current_user()
        if user is None or user.role == Role.api_client:
            area = who.area_code if who is not None else (user.area if user is not None else None)
            return contains(area, county) and county in (rt.served_counties() if served is None else served)
        return caller_sees(county)

    @router.get("/cases/{case_id}", response_model=CaseOut)
    def get_case(case_id: int, session: Session = Depends(db_session), who: ApiClient | None = Depends(reader)) -> CaseOut:
        """A case with its event log; personal data is masked (a leader gets none)."""
        return read_case(session, case_id, personal=personal_for_reader(), who=who)

    @router.get("/alerts", response_model=list[CaseOut])
    def get_alerts(session: Session = Depends(db_session), min_level: AlertLevel = AlertLevel.yellow,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                   who: ApiClient | None = Depends(reader)) -> list[CaseOut]:
        """Open cases at or above ``min_level`` in the served counties the caller sees, worst level
        first, then oldest first."""
        now = rt.clock()
        personal = personal_for_reader()
        served = rt.served_counties(session)
        counties = [c for c in served if visible(c, who, served)]
        if not counties:
            raise ApiError(404, "not_found", None, "no county of your area is served here")
        rows = [case_out(c, alert=alert_now(c, now, rt), with_events=False, personal=personal)
                for county in counties for c in cases.open_cases(session, county)]
        rows = [r for r in rows if r.alert and r.alert.level.rank >= min_level.rank]
        rows.sort(key=lambda r: (-r.alert.level.rank, r.received_at))  # type: ignore[union-attr]
        return rows[:limit]

    @router.get("/figures")
    def get_figures(area: str, start: Annotated[date, Query(alias="from", ge=FIRST_DAY, le=LAST_DAY)],
                    end: Annotated[date, Query(alias="to", ge=FIRST_DAY, le=LAST_DAY)],
                    session: Session = Depends(db_session), who: ApiClient | None = Depends(reader)) -> dict[str, object]:
        """Every DESIGN.md figure for an area (province, city, county, township, village or grid
        code) and period of local days. A city's or province's figures are those of all its served
        counties' cases (``screens.rollup``: counts summed, rates recomputed from the sums)."""
        if end < start:
            raise ApiError(422, "invalid", "to", "the period ends before it starts")
        if (end - start).days > 366 * 3:
            raise ApiError(422, "invalid", "from", "periods are limited to three years")
        period = Period(start, end)
        if rollup.is_region(area):
            served = rt.served_counties()
            counties = rollup.region_counties(rt, area)
            if not counties or not caller_sees(area) or not all(visible(c, who, served) for c in counties):
                raise ApiError(404, "not_found", "area", f"no area {area!r} here")
            figures = rollup.region_figures(rt, area, period, now=rt.clock()).as_json()
            return rollup.add_region_matters(session, figures, counties=counties, period=period)
        county = rt.cases.county_code
        if not area.startswith(county) and area[:6] in rt.served_counties():
            county = area[:6]
        if not visible(county) or not caller_sees(area) or not areas.area_exists(session, county, area):
            raise ApiError(404, "not_found", "area", f"no area {area!r} in county {county}")
        figures = area_figures(rt.redis, county, area, period, now=rt.clock(), rules=rt.rules).as_json()
        return add_matters(session, figures, county=county, area=area, period=period)

    @router.post("/cases/{case_id}/reveal", response_model=RevealOut)
    def reveal_case(case_id: int, request: Request, session: Session = Depends(db_session), body: RevealIn | None = None) -> RevealOut:
        """The unmasked personal data of one case, for a signed-in duty officer (``auth.REVEAL``).

        Needs the session's CSRF token in an ``X-CSRFToken`` (or ``X-CSRF-Token``) header; every
        reveal is written to the audit log in the same transaction that reads the data.
        """
        user = current_user()
        if user is None or user.role not in REVEAL:
            raise ApiError(403, "forbidden", None, "only a duty officer may reveal personal data")
        ip = request.client.host if request.client else None
        now = rt.clock()
        try:  # the hourly reveal quota: refused, audited and the admin alerted in its own transaction
            reveal_quota.admit(session, personal_data.Actor(user.name, user.role.value, ip), target=f"case:{case_id}",
                               limit=rt.settings.reveal_quota_per_hour, now=now)
        except reveal_quota.RevealQuotaReached as refused:
            raise ApiError(429, "rate_limited", None, str(refused)) from refused
        with session.begin():
            case = cases.get(session, case_id)
            if case is None or not user.sees(case.county_code):
                raise ApiError(404, "not_found", "case_id", f"no case {case_id}")
            details = personal_data.reveal(session, case, personal_data.Actor(user.name, user.role.value, ip),
                                           reason=body.reason if body else "")
        return RevealOut(case_id=case_id, **details.as_dict(), revealed_by=user.name, revealed_at=now)

    return router
