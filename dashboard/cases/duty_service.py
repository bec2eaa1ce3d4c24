"""The duty officer's actions: acknowledge, assign, supervise, and the shift handover note.

Each action goes through the case service (one transaction, one event, then Redis), so the
console obeys the same lifecycle as the API: an acknowledgement on a resolved case is refused
and changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from dashboard.cases.casework import CaseInputError
from dashboard.domain.lifecycle import TransitionError
from dashboard.domain.masking import PartyDetails, mask_text
from dashboard.cases import personal_data
from dashboard.cases.personal_data import Actor, party_of
from dashboard.domain.vocabulary import Action
from data_access import audit, cases, duty_queries
from data_access.models import Case, CaseEvent

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

NOTE_LIMIT = 2000
QUEUE_LEVELS = {"all": ("red", "orange", "yellow", "blue"), "high": ("red", "orange")}


class DutyActionError(ValueError):
    """An action the console refuses; the message is shown to the officer."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code if not detail else f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class CaseDetail:
    case_id: int
    status: str
    tier: str
    category: str
    source: str
    level: str | None
    reasons: tuple[str, ...]
    people_involved: int
    received_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    township_code: str
    village_code: str
    grid_code: str
    supervised: bool
    escalated: bool
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    center: str | None
    department: str | None
    first_receiver: str
    party: PartyDetails
    """Masked: the console shows 张* and 138****1234 until the officer reveals (audited)."""
    events: list[tuple[datetime, str, str, str | None, str, str]]
    """(at, actor, action, from, to, note), oldest first; personal data in a note is masked too."""


def case_detail(rt: Runtime, case_id: int) -> CaseDetail | None:
    with rt.sessions() as session:
        row = cases.get(session, case_id)
        if row is None or row.county_code != rt.cases.county_code:
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
    """The case row; refused when it does not exist or belongs to another county (no timeline is loaded)."""
    row = cases.get(session, case_id)
    if row is None or row.county_code != rt.cases.county_code:
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
        event = rt.cases.act(case_id, action, actor=who.name, at=at or datetime.now(UTC), note=note,
                             also=_audited(who, action.value, case_id, audit_detail or {}), **details)
    except TransitionError as error:
        raise DutyActionError("not_allowed", str(error)) from error
    except CaseInputError as error:
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
            session, rt.cases.county_code, township=case.township_code, village=case.village_code)}
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
    at = at or datetime.now(UTC)
    with rt.sessions.begin() as session:
        note = duty_queries.add_handover_note(session, county=rt.cases.county_code, author=who.name, at=at, text=text)
        audit.record(session, actor=who.name, role=who.role, action="handover_note", target=f"note:{note.id}", ip=who.ip,
                     at=at)


def reveal(rt: Runtime, case_id: int, *, who: Actor) -> PartyDetails:
    """The unmasked personal data, for the officer who asked, with its audit entry."""
    with rt.sessions.begin() as session:
        details = personal_data.reveal(session, _own_case(session, rt, case_id), who, reason="duty console")
    return details
