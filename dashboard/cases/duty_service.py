"""The duty officer's console: what it reads (the alert queue, a case's masked detail, the places
a case can go, the handover notes, as ``dashboard.domain.duty_console`` values) and its actions
(acknowledge, assign, supervise, the shift handover note, the audited reveal).

Each action goes through the case service (one transaction, one event, then Redis), so the
console obeys the same lifecycle as the API: an acknowledgement on a resolved case is refused
and changes nothing.

The console serves the deployment's county, to an officer whose area holds it
(``dashboard.access.scope``): an officer held to another area gets an empty queue, no case,
no notes, and every action refused as not found.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from dashboard.access.scope import caller_sees
from dashboard.cases import personal_data
from dashboard.cases import reveal_quota
from dashboard.domain.errors import FieldError
from dashboard.cases.personal_data import Actor, party_of
from dashboard.domain.duty_console import Assignee, CaseDetail, DutyQueue, HandoverNote
from dashboard.domain.lifecycle import TransitionError
from dashboard.domain.masking import PartyDetails, mask_text
from dashboard.domain.vocabulary import Action
from data_access import audit, cases, duty_queries
from data_access.models import Case, CaseEvent

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

NOTE_LIMIT = 2000
QUEUE_LEVELS = {"all": ("red", "orange", "yellow", "blue"), "high": ("red", "orange")}
QUEUE_ROWS = 50
"""The head of the queue the console shows. Dash 4.4's renderer remounts every returned component,
at a cost that grows faster than their number: 200 rows took 6–8 s to appear on this machine's
Chromium, 50 rows 0.4 s. The count above the list says how many more wait."""


class DutyActionError(FieldError):
    """An action the console refuses: ``code`` picks the message shown to the officer, ``detail``
    fills it in. A field error like any other, told apart only by the console's codes."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(None, code if not detail else f"{code}: {detail}", code=code)
        self.detail = detail


def console_county(rt: Runtime) -> str | None:
    """The county the console serves its caller: the deployment's, when the caller's area holds
    it; ``None`` (nothing to show, nothing to act on) otherwise."""
    county = rt.cases.county_code
    return county if caller_sees(county) else None


def queue(rt: Runtime, kind: str = "all", *, limit: int = QUEUE_ROWS) -> DutyQueue:
    """The queue under one filter (``all``, ``high`` = red and orange, ``unacknowledged``): its
    head, highest level first then longest waiting, its length, and every open red case."""
    county = console_county(rt)
    if county is None:
        return DutyQueue([], 0, [])
    levels = QUEUE_LEVELS["high" if kind == "high" else "all"]
    unacknowledged_only = kind == "unacknowledged"
    with rt.sessions() as session:
        rows = duty_queries.alert_queue(session, county, levels=levels, unacknowledged_only=unacknowledged_only,
                                        limit=limit)
        total = duty_queries.count_alerts(session, county, levels=levels, unacknowledged_only=unacknowledged_only)
        red = duty_queries.open_red_ids(session, county)
    return DutyQueue(rows, total, red)


def assignees(rt: Runtime, detail: CaseDetail | None) -> list[Assignee]:
    """The places the console offers for a case: its village and township centres, the county
    centre and its departments; none without a case."""
    county = console_county(rt)
    if detail is None or county is None:
        return []
    with rt.sessions() as session:
        return duty_queries.assignees(session, county, township=detail.township_code, village=detail.village_code)


def handover_notes(rt: Runtime) -> list[HandoverNote]:
    """The newest handover notes of the county, newest first."""
    county = console_county(rt)
    if county is None:
        return []
    with rt.sessions() as session:
        return duty_queries.handover_notes(session, county)


def case_detail(rt: Runtime, case_id: int) -> CaseDetail | None:
    """The case with its timeline, personal data masked; ``None`` outside the console's county."""
    county = console_county(rt)
    if county is None:
        return None
    with rt.sessions() as session:
        row = cases.get(session, case_id)
        if row is None or row.county_code != county:
            return None
        center, department = duty_queries.place_names(session, row.center_id, row.department_id)
        party = party_of(row)
        events = [(e.at, e.actor, e.action, e.from_status, e.to_status, mask_text(e.note, [party]))
                  for e in duty_queries.timeline(session, case_id)]
        return CaseDetail(
            row.id, row.status, row.tier, row.category, row.source, row.alert_level,
            tuple(r for r in row.alert_reasons.split(",") if r), row.people_involved, row.received_at, row.due_at,
            row.resolved_at, row.township_code, row.village_code, row.grid_code, row.supervised, row.escalated,
            row.acknowledged_at, row.acknowledged_by, center, department, row.first_receiver, party.masked(),
            events,
        )


def _own_case(session: Session, rt: Runtime, case_id: int) -> Case:
    """The case row; refused when it does not exist, belongs to another county, or the console
    serves the caller no county (no timeline is loaded)."""
    county = console_county(rt)
    row = cases.get(session, case_id) if county is not None else None
    if row is None or row.county_code != county:
        raise DutyActionError("not_found")
    return row


def _audited(who: Actor, action: str, case_id: int, detail: dict[str, object]):  # type: ignore[no-untyped-def]
    """Write the audit entry in the same transaction as the case event."""

    def write(session: Session, event: CaseEvent) -> None:
        audit.record(session, actor=who.name, role=who.role, action=action, target=f"case:{case_id}",
                     detail={**detail, "event": event.id}, ip=who.ip, at=event.at)

    return write


def _act(rt: Runtime, case_id: int, action: Action, *, who: Actor, note: str = "", at: datetime | None = None,
         audit_detail: dict[str, object] | None = None, **details: object) -> bool:
    """Apply one action with its audit entry; ``False`` when ``only_if`` found nothing to do."""
    if len(note) > NOTE_LIMIT:
        raise DutyActionError("note_too_long", str(NOTE_LIMIT))
    with rt.sessions() as session:
        _own_case(session, rt, case_id)
    try:
        event = rt.cases.act(case_id, action, actor=who.name, at=at or rt.clock(), note=note,
                             also=_audited(who, action.value, case_id, audit_detail or {}), **details)
    except TransitionError as error:
        raise DutyActionError("not_allowed", str(error)) from error
    except FieldError as error:
        raise DutyActionError("bad_input", error.message) from error
    return event is not None


def acknowledge(rt: Runtime, case_id: int, *, who: Actor, at: datetime | None = None) -> bool:
    """"I have seen this alert": who and when, once (the first acknowledgement stands, checked
    under the row lock); refused on a resolved case. Returns whether this call recorded it."""
    return _act(rt, case_id, Action.acknowledge, who=who, at=at, only_if=lambda c: c.acknowledged_at is None)


def assign(rt: Runtime, case_id: int, *, who: Actor, center_id: int, department_id: int | None, note: str = "",
           at: datetime | None = None) -> None:
    """Send the case to one of the places the console offers for it (its village and township
    centres, the county centre and its departments); anything else is refused, not stored."""
    with rt.sessions() as session:
        case = _own_case(session, rt, case_id)
        offered = {(a.center_id, a.department_id) for a in duty_queries.assignees(
            session, case.county_code, township=case.township_code, village=case.village_code)}
    if (center_id, department_id) not in offered:
        raise DutyActionError("pick_assignee")
    _act(rt, case_id, Action.assign, who=who, note=note, at=at, center_id=center_id, department_id=department_id,
         audit_detail={"center_id": center_id, "department_id": department_id})


def supervise(rt: Runtime, case_id: int, *, who: Actor, note: str, at: datetime | None = None) -> None:
    """督办 needs a note: the chased unit must know what is expected."""
    if not note.strip():
        raise DutyActionError("note_required")
    _act(rt, case_id, Action.supervise, who=who, note=note.strip(), at=at)


def add_handover_note(rt: Runtime, *, who: Actor, text: str, at: datetime | None = None) -> None:
    text = text.strip()
    if not text:
        raise DutyActionError("note_required")
    if len(text) > NOTE_LIMIT:
        raise DutyActionError("note_too_long", str(NOTE_LIMIT))
    county = console_county(rt)
    if county is None:
        raise DutyActionError("not_found")
    at = at or rt.clock()
    with rt.sessions.begin() as session:
        note_id = duty_queries.add_handover_note(session, county=county, author=who.name, at=at, text=text)
        audit.record(session, actor=who.name, role=who.role, action="handover_note", target=f"note:{note_id}", ip=who.ip,
                     at=at)


def reveal(rt: Runtime, case_id: int, *, who: Actor) -> PartyDetails:
    """The unmasked personal data, for the officer who asked, with its audit entry; refused (and
    audited) beyond the officer's hourly quota (``reveal_quota``)."""
    with rt.sessions() as session:
        try:
            reveal_quota.admit(session, who, target=f"case:{case_id}", limit=rt.settings.reveal_quota_per_hour,
                               now=rt.clock())
        except reveal_quota.RevealQuotaReached as refused:
            raise DutyActionError("reveal_quota", str(refused.retry_after)) from refused
    with rt.sessions.begin() as session:
        details = personal_data.reveal(session, _own_case(session, rt, case_id), who, reason="duty console")
    return details
