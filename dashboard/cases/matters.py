"""One matter across channels: the officer merges possible duplicates into one matter (事项) or
dismisses the suggestion; both are audited and both can be undone.

A merged matter keeps every case, each with its own row and event log; only the membership is
recorded (``matter_member``). One case leads the matter: the most serious open alert, then the
earliest received. The lead drives the alert: the wall's ticker and red list show the lead alone
(``data_access.matters.not_led``). The lead is chosen again after every merge and unmerge.

Each action is one transaction (membership, suggestion state, audit entry), then the county's
aggregate version is bumped and announced so every screen recomputes at once; the aggregates'
counters do not change (received still counts cases, the matters figure is read from SQL).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from dashboard.access.scope import caller_sees
from dashboard.cases.personal_data import Actor
from dashboard.domain.errors import FieldError
from dashboard.domain.labels import match_reason
from dashboard.domain.matter_view import CaseBrief, Candidate, MatterPanel
from dashboard.domain.vocabulary import AlertLevel
from data_access import audit, cases, matters
from data_access.models import Case

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

log = logging.getLogger(__name__)

_RANK = {level.value: level.rank for level in AlertLevel}
MAX_MEMBERS = 100
"""The most cases one matter holds (every list has a bound: the console shows them all)."""


ERROR_CODES = ("no_case", "same_case", "already_merged", "matter_full", "not_merged", "no_suggestion",
               "suggestion_state")
"""Every refusal's code; each has its words (``matter.err.<code>``)."""


class MatterActionError(FieldError):
    """A merge, unmerge or dismissal the console refuses; ``code`` (one of ``ERROR_CODES``) picks
    the message."""

    def __init__(self, code: str, detail: str = "") -> None:
        assert code in ERROR_CODES, code
        super().__init__(None, code if not detail else f"{code}: {detail}", code=code)
        self.detail = detail


def lead_of(rows: Sequence[Case]) -> int:
    """The case that leads: open before closed, most serious alert, then earliest received."""
    best = min(rows, key=lambda c: (c.resolved_at is not None, -_RANK.get(c.alert_level or "", 0), c.received_at, c.id))
    return best.id


def _case(session: Session, county: str, case_id: int) -> Case:
    row = cases.get(session, case_id, for_update=True)
    if row is None or row.county_code != county or not caller_sees(row.grid_code):
        raise MatterActionError("no_case", str(case_id))
    return row


def _relead(session: Session, matter_id: int) -> None:
    row = matters.matter(session, matter_id, for_update=True)
    member_ids = matters.members(session, matter_id)
    if row is None:
        return
    if len(member_ids) < 2:
        for case_id in member_ids:
            matters.leave(session, case_id)
        matters.drop_matter(session, matter_id)
        return
    rows = [c for c in (cases.get(session, i) for i in member_ids) if c is not None]
    row.lead_case_id = lead_of(rows)
    session.flush()


def _announce(rt: Runtime) -> None:
    try:
        matters.announce_change(rt.redis, rt.cases.county_code)
    except Exception:  # noqa: BLE001 - the change is stored; screens catch up on their next tick
        log.warning("matter change stored but not announced", exc_info=True)


def merge(rt: Runtime, case_id: int, other_id: int, *, who: Actor, at: datetime | None = None) -> int:
    """Merge ``other_id`` and ``case_id`` (and their matters, if any) into one matter; returns its id."""
    if case_id == other_id:
        raise MatterActionError("same_case")
    at = at or rt.clock()
    county = rt.cases.county_code
    with rt.sessions() as session, session.begin():
        a, b = sorted((_case(session, county, case_id), _case(session, county, other_id)), key=lambda c: c.id)
        in_a, in_b = matters.membership(session, a.id), matters.membership(session, b.id)
        if in_a and in_b and in_a.matter_id == in_b.matter_id:
            raise MatterActionError("already_merged", str(in_a.matter_id))
        if in_a and in_b:
            target = min(in_a.matter_id, in_b.matter_id)
            gone = max(in_a.matter_id, in_b.matter_id)
            matters.move_members(session, gone, target)
            matters.drop_matter(session, gone)
        elif in_a or in_b:
            target = (in_a or in_b).matter_id  # type: ignore[union-attr]
            matters.join(session, target, [b.id if in_a else a.id], by=who.name, at=at)
        else:
            target = matters.new_matter(session, county, lead_of([a, b]), by=who.name, at=at).id
            matters.join(session, target, [a.id, b.id], by=who.name, at=at)
        if len(matters.members(session, target)) > MAX_MEMBERS:
            raise MatterActionError("matter_full", str(MAX_MEMBERS))
        _relead(session, target)
        found = matters.suggestion(session, a.id, b.id, for_update=True)
        if found is not None:
            matters.set_state(session, found, "merged", by=who.name, at=at)
        audit.record(session, actor=who.name, role=who.role, action="matter_merge", target=f"case:{case_id}",
                     detail={"other": other_id, "matter": target}, ip=who.ip, at=at)
    _announce(rt)
    return target


def unmerge(rt: Runtime, case_id: int, *, who: Actor, at: datetime | None = None) -> int:
    """Take ``case_id`` out of its matter (it becomes its own matter again); a matter left with
    one case is dissolved. Returns the matter's id."""
    at = at or rt.clock()
    county = rt.cases.county_code
    with rt.sessions() as session, session.begin():
        _case(session, county, case_id)
        member = matters.membership(session, case_id)
        if member is None:
            raise MatterActionError("not_merged", str(case_id))
        matter_id = member.matter_id
        matters.matter(session, matter_id, for_update=True)
        others = [i for i in matters.members(session, matter_id) if i != case_id]
        matters.leave(session, case_id)
        for other in others:
            found = matters.suggestion(session, case_id, other, for_update=True)
            if found is not None and found.state == "merged":
                matters.set_state(session, found, "open", by=who.name, at=at)
        _relead(session, matter_id)
        audit.record(session, actor=who.name, role=who.role, action="matter_unmerge", target=f"case:{case_id}",
                     detail={"matter": matter_id, "others": others}, ip=who.ip, at=at)
    _announce(rt)
    return matter_id


def _decide(rt: Runtime, case_id: int, other_id: int, *, who: Actor, at: datetime | None, want: str, becomes: str,
            action: str) -> None:
    at = at or rt.clock()
    county = rt.cases.county_code
    with rt.sessions() as session, session.begin():
        _case(session, county, case_id)
        _case(session, county, other_id)
        found = matters.suggestion(session, case_id, other_id, for_update=True)
        if found is None:
            raise MatterActionError("no_suggestion", f"{case_id}/{other_id}")
        if found.state != want:
            raise MatterActionError("suggestion_state", found.state)
        matters.set_state(session, found, becomes, by=who.name, at=at)
        audit.record(session, actor=who.name, role=who.role, action=action, target=f"case:{case_id}",
                     detail={"other": other_id, "score": found.score}, ip=who.ip, at=at)


def dismiss(rt: Runtime, case_id: int, other_id: int, *, who: Actor, at: datetime | None = None) -> None:
    """Not the same matter: the suggestion stays stored, marked dismissed (audited)."""
    _decide(rt, case_id, other_id, who=who, at=at, want="open", becomes="dismissed", action="matter_dismiss")


def undismiss(rt: Runtime, case_id: int, other_id: int, *, who: Actor, at: datetime | None = None) -> None:
    """Undo a dismissal: the suggestion is open again (audited)."""
    _decide(rt, case_id, other_id, who=who, at=at, want="dismissed", becomes="open", action="matter_undismiss")


def _brief(row: Case) -> CaseBrief:
    return CaseBrief(row.id, row.category, row.source, row.village_code, row.received_at, row.status, row.alert_level)


def panel(rt: Runtime, case_id: int, *, session: Session | None = None) -> MatterPanel | None:
    """The console's matter panel of one case of the county, or ``None`` for no such case."""
    county = rt.cases.county_code
    rules = rt.rules.matters
    own = session if session is not None else rt.sessions()
    try:
        row = cases.get(own, case_id)
        if row is None or row.county_code != county or not caller_sees(row.grid_code):
            return None
        member = matters.membership(own, case_id)
        matter_row = matters.matter(own, member.matter_id) if member else None
        member_rows = [c for c in (cases.get(own, i) for i in matters.members(own, member.matter_id))
                       if c is not None] if member else []
        found = matters.suggestions_for(own, case_id)
        partners = {s.partner(case_id): cases.get(own, s.partner(case_id)) for s in found}
        partners = {i: c for i, c in partners.items() if c is not None and caller_sees(c.grid_code)}
        candidates = tuple(
            Candidate(_brief(partners[s.partner(case_id)]), s.score,  # type: ignore[arg-type]
                      tuple((str(code), value) for code, value in s.reasons), s.state, s.decided_by)  # type: ignore[misc]
            for s in found if partners.get(s.partner(case_id)) is not None)
        calls = matters.repeat_calls(own, case_id, since=row.received_at - timedelta(days=rules.repeat_caller_days),
                                     until=row.received_at)
    finally:
        if session is None:
            own.close()
    return MatterPanel(case_id=case_id, matter_id=member.matter_id if member else None,
                       lead_case_id=matter_row.lead_case_id if matter_row else None,
                       members=tuple(_brief(c) for c in member_rows), candidates=candidates, repeat_calls=calls,
                       repeat_caller=calls >= rules.repeat_caller_cases, repeat_days=rules.repeat_caller_days)


def api_view(session: Session, case_id: int, *, lang: str = "zh") -> tuple[int | None, list[dict[str, object]]]:
    """What ``GET /api/cases/{id}`` adds: the case's matter id and its possible duplicates (ids,
    score, reasons as code and words, state). No party: ``same_party`` says only that it is one."""
    member = matters.membership(session, case_id)
    found = matters.suggestions_for(session, case_id)
    visible = set(matters.visible_ids(session, [s.partner(case_id) for s in found], caller_sees))
    duplicates = [
        {"case_id": s.partner(case_id), "score": s.score, "state": s.state,
         "reasons": [{"code": str(code), "text": match_reason(str(code), value, lang)} for code, value in s.reasons]}
        for s in found if s.partner(case_id) in visible
    ]
    return (member.matter_id if member else None), duplicates
