"""The write path's rules: build a case from a draft and move it through the loop.

Every writer (API, import, demo feed, scheduler) goes through these functions, so each change
writes exactly one event and keeps deadline and alert level current. They only touch the session;
``dashboard.cases.case_service`` commits and then updates Redis.

``new_case`` and ``act`` work on ORM rows; ``replayed_case`` walks a case from receipt through
the main loop to a given status with the same two steps (``opening_columns`` and ``advance``)
on a plain :class:`CaseState`, for a writer that stores many cases at once (the import).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dashboard.domain.alerts import case_alert
from dashboard.domain.contributions import case_facts
from dashboard.domain.errors import FieldError
from dashboard.domain.lifecycle import due_at, next_status, tier_above
from dashboard.domain.periods import as_utc
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import CLOSED_STATUSES, Action, Category, Satisfaction, Source, Status, Tier
from data_access.areas import GridPlace
from data_access.models import Case, CaseEvent


@dataclass(frozen=True, slots=True)
class CaseDraft:
    """A new case as a source system reports it."""

    source: Source
    external_ref: str
    category: Category
    received_at: datetime
    grid_code: str
    tier: Tier = Tier.village
    people_involved: int = 1
    description: str = ""
    lon: float | None = None
    lat: float | None = None
    risk_extreme: bool = False
    risk_mass_incident: bool = False
    beyond_county_petition: bool = False
    repeat_petition: bool = False

    def __post_init__(self) -> None:
        if not self.external_ref.strip() or len(self.external_ref) > 64:
            raise FieldError("external_ref", "must be 1–64 characters")
        if not 1 <= self.people_involved <= 100_000:
            raise FieldError("people_involved", "must be between 1 and 100000")
        if self.received_at.tzinfo is None:
            raise FieldError("received_at", "needs a UTC offset, e.g. 2026-11-22T09:30:00+08:00")


class CaseFields(Protocol):
    """The columns a lifecycle step reads and writes: an ORM ``Case`` or a plain :class:`CaseState`."""

    source: str
    category: str
    people_involved: int
    risk_extreme: bool
    risk_mass_incident: bool
    beyond_county_petition: bool
    repeat_petition: bool
    status: str
    tier: str
    escalated: bool
    supervised: bool
    center_id: int | None
    department_id: int | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    received_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    resolved_tier: str | None
    outcome: str | None
    followed_up_at: datetime | None
    satisfaction: str | None
    alert_level: str | None
    alert_reasons: str
    updated_at: datetime


@dataclass(slots=True)
class CaseState:
    """A case row as plain attributes, before it is stored: what a bulk insert writes."""

    source: str
    external_ref: str
    category: str
    description: str
    people_involved: int
    risk_extreme: bool
    risk_mass_incident: bool
    beyond_county_petition: bool
    repeat_petition: bool
    county_code: str
    township_code: str
    village_code: str
    grid_code: str
    lon: float | None
    lat: float | None
    status: str
    tier: str
    escalated: bool
    supervised: bool
    first_receiver: str
    received_at: datetime
    due_at: datetime
    updated_at: datetime
    center_id: int | None = None
    department_id: int | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_tier: str | None = None
    outcome: str | None = None
    followed_up_at: datetime | None = None
    satisfaction: str | None = None
    alert_level: str | None = None
    alert_reasons: str = ""


def refresh_alert(case: CaseFields, *, now: datetime, rules: Rules) -> None:
    alert = case_alert(case_facts(case), now=now, rules=rules)  # type: ignore[arg-type]
    case.alert_level = alert.level.value if alert else None
    case.alert_reasons = ",".join(alert.reasons) if alert else ""


def draft_columns(draft: CaseDraft, place: GridPlace) -> dict[str, object]:
    """The case columns a draft and its grid fix."""
    return {
        "source": draft.source.value,
        "external_ref": draft.external_ref.strip(),
        "category": draft.category.value,
        "description": draft.description,
        "people_involved": draft.people_involved,
        "risk_extreme": draft.risk_extreme,
        "risk_mass_incident": draft.risk_mass_incident,
        "beyond_county_petition": draft.beyond_county_petition,
        "repeat_petition": draft.repeat_petition,
        "county_code": place.county_code,
        "township_code": place.township_code,
        "village_code": place.village_code,
        "grid_code": place.grid_code,
        "lon": draft.lon,
        "lat": draft.lat,
    }


def opening_columns(draft: CaseDraft, place: GridPlace, *, actor: str, now: datetime, rules: Rules) -> dict[str, object]:
    """Every column a case starts with when it is received (受理), but its alert.

    Raises ``FieldError`` for a receipt after ``now``.
    """
    received = as_utc(draft.received_at)
    if received > as_utc(now):
        raise FieldError("received_at", "lies in the future")
    return {
        **draft_columns(draft, place),
        "status": Status.received.value,
        "tier": draft.tier.value,
        "escalated": False,
        "supervised": False,
        "first_receiver": actor,
        "received_at": received,
        "due_at": due_at(Status.received, tier=draft.tier, source=draft.source, received_at=received,
                         since=received, rules=rules, category=draft.category),
        "updated_at": received,
    }


def new_case(draft: CaseDraft, place: GridPlace, *, actor: str, now: datetime, rules: Rules) -> tuple[Case, CaseEvent]:
    """The case row and its first event (受理), not yet added to a session."""
    case = Case(**opening_columns(draft, place, actor=actor, now=now, rules=rules))
    refresh_alert(case, now=now, rules=rules)
    event = CaseEvent(at=case.received_at, actor=actor, action=Action.receive.value, from_status=None,
                      to_status=Status.received.value, note="")
    return case, event


def advance(
    case: CaseFields,
    action: Action,
    *,
    actor: str,
    at: datetime,
    rules: Rules,
    note: str = "",
    outcome: str | None = None,
    satisfaction: Satisfaction | None = None,
    center_id: int | None = None,
    department_id: int | None = None,
) -> tuple[Status, Status]:
    """Apply ``action`` to ``case`` in place, all but its alert; returns (state before, state after).

    ``at`` is UTC. Raises ``FieldError`` or ``lifecycle.TransitionError`` for a change the case
    does not allow, before changing anything.
    """
    if at < case.updated_at:
        raise FieldError("at", "an event cannot predate the case's last change")
    before = Status(case.status)
    after = next_status(before, action)
    if action in (Action.dispatch, Action.assign):
        if action is Action.assign and center_id is None and department_id is None:
            raise FieldError("center_id", "an assignment names a centre or a department")
        case.center_id = center_id if center_id is not None else case.center_id
        case.department_id = department_id if department_id is not None else case.department_id
    elif action is Action.escalate:
        case.tier = tier_above(Tier(case.tier)).value
        case.escalated = True
    elif action is Action.supervise:
        case.supervised = True
    elif action is Action.acknowledge:
        case.acknowledged_at = at
        case.acknowledged_by = actor
    elif action is Action.resolve:
        case.resolved_at = at
        case.resolved_tier = case.tier
        case.outcome = outcome or note
    elif action is Action.follow_up:
        if satisfaction is None:
            raise FieldError("satisfaction", "a follow-up records satisfaction")
        case.followed_up_at = at
        case.satisfaction = satisfaction.value
    elif action is Action.reopen:
        case.resolved_at = None
        case.resolved_tier = None
        case.followed_up_at = None
        case.satisfaction = None
    moved = after is not before or action in (Action.escalate, Action.reopen)
    if moved and after not in (Status.resolved, Status.followed_up):
        since = at if action is Action.reopen else case.received_at
        case.due_at = due_at(after, tier=Tier(case.tier), source=Source(case.source), received_at=case.received_at,
                             since=since, rules=rules, category=Category(case.category))
    case.status = after.value
    case.updated_at = at
    return before, after


def act(
    case: Case,
    action: Action,
    *,
    actor: str,
    at: datetime,
    rules: Rules,
    note: str = "",
    outcome: str | None = None,
    satisfaction: Satisfaction | None = None,
    center_id: int | None = None,
    department_id: int | None = None,
) -> CaseEvent:
    """Apply ``action`` to ``case`` in place and return the event that records it."""
    at = as_utc(at)
    before, after = advance(case, action, actor=actor, at=at, rules=rules, note=note, outcome=outcome,
                            satisfaction=satisfaction, center_id=center_id, department_id=department_id)
    refresh_alert(case, now=at, rules=rules)
    return CaseEvent(case_id=case.id, at=at, actor=actor, action=action.value, from_status=before.value,
                     to_status=after.value, note=note)


MAIN_LOOP: tuple[tuple[Action, Status], ...] = (
    (Action.assess, Status.assessed),
    (Action.dispatch, Status.dispatched),
    (Action.mediate, Status.mediating),
    (Action.resolve, Status.resolved),
    (Action.follow_up, Status.followed_up),
)
"""The main loop in order: reaching a status takes every step up to and including it."""


def lifecycle_steps(status: Status, received_at: datetime, resolved_at: datetime | None) -> list[tuple[Action, datetime]]:
    """The actions that lead from receipt to ``status``, each with a deterministic time.

    A closed case spreads assess, dispatch and mediate over quarters of receipt → resolution and
    is resolved (and followed up) at ``resolved_at``; an open case has no later time to go by, so
    its steps all happen at receipt.
    """
    steps: list[tuple[Action, datetime]] = []
    for n, (action, reached) in enumerate(MAIN_LOOP, start=1):
        if status is Status.received:
            break
        if resolved_at is None:
            at = received_at
        elif action in (Action.resolve, Action.follow_up):
            at = resolved_at
        else:
            at = received_at + (resolved_at - received_at) * n / 4
        steps.append((action, at))
        if reached is status:
            break
    return steps


def replayed_case(draft: CaseDraft, place: GridPlace, *, status: Status, resolved_at: datetime | None,
                  satisfaction: Satisfaction | None, actor: str, now: datetime, rules: Rules) -> CaseState:
    """The case received from ``draft`` and moved through the main loop to ``status``, with its alert at ``now``.

    Each step is the write path's own ``advance``, timed by :func:`lifecycle_steps`; a closed
    status needs ``resolved_at``, ``followed_up`` a satisfaction. Raises ``FieldError`` or
    ``lifecycle.TransitionError`` for a case the write path would refuse.
    """
    if status in CLOSED_STATUSES and resolved_at is None:
        raise FieldError("resolved_at", f"required when status is {status.value}")
    case = CaseState(**opening_columns(draft, place, actor=actor, now=now, rules=rules))  # type: ignore[arg-type]
    end = as_utc(resolved_at) if resolved_at is not None else None
    for action, at in lifecycle_steps(status, case.received_at, end):
        advance(case, action, actor=actor, at=at, rules=rules,
                satisfaction=satisfaction if action is Action.follow_up else None)
    refresh_alert(case, now=now, rules=rules)
    return case
