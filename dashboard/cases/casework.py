"""The write path's rules: build a case from a draft and move it through the loop.

Every writer (API, import, demo feed, scheduler) goes through these functions, so each change
writes exactly one event and keeps deadline and alert level current. They only touch the session;
``dashboard.cases.case_service`` commits and then updates Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashboard.domain.alerts import case_alert
from dashboard.domain.contributions import case_facts
from dashboard.domain.lifecycle import due_at, next_status, tier_above
from dashboard.domain.periods import as_utc
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import Action, Category, Satisfaction, Source, Status, Tier
from data_access.areas import GridPlace
from data_access.models import Case, CaseEvent


class CaseInputError(ValueError):
    """A draft or action that cannot be accepted; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
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
            raise CaseInputError("external_ref", "must be 1–64 characters")
        if not 1 <= self.people_involved <= 100_000:
            raise CaseInputError("people_involved", "must be between 1 and 100000")
        if self.received_at.tzinfo is None:
            raise CaseInputError("received_at", "needs a UTC offset, e.g. 2026-11-22T09:30:00+08:00")


def refresh_alert(case: Case, *, now: datetime, rules: Rules) -> None:
    alert = case_alert(case_facts(case), now=now, rules=rules)
    case.alert_level = alert.level.value if alert else None
    case.alert_reasons = ",".join(alert.reasons) if alert else ""


def draft_columns(draft: CaseDraft, place: GridPlace) -> dict[str, object]:
    """The case columns a draft and its grid fix, shared by ``new_case`` and the bulk import."""
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


def new_case(draft: CaseDraft, place: GridPlace, *, actor: str, now: datetime, rules: Rules) -> tuple[Case, CaseEvent]:
    """The case row and its first event (受理), not yet added to a session."""
    received = as_utc(draft.received_at)
    if received > as_utc(now):
        raise CaseInputError("received_at", "lies in the future")
    case = Case(
        **draft_columns(draft, place),
        status=Status.received.value,
        tier=draft.tier.value,
        escalated=False,
        supervised=False,
        first_receiver=actor,
        received_at=received,
        due_at=due_at(Status.received, tier=draft.tier, source=draft.source, received_at=received, since=received,
                      rules=rules, category=draft.category),
        updated_at=received,
    )
    refresh_alert(case, now=now, rules=rules)
    event = CaseEvent(at=received, actor=actor, action=Action.receive.value, from_status=None,
                      to_status=Status.received.value, note="")
    return case, event


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
    if at < case.updated_at:
        raise CaseInputError("at", "an event cannot predate the case's last change")
    before = Status(case.status)
    after = next_status(before, action)
    tier, source = Tier(case.tier), Source(case.source)
    received = case.received_at
    if action in (Action.dispatch, Action.assign):
        if action is Action.assign and center_id is None and department_id is None:
            raise CaseInputError("center_id", "an assignment names a centre or a department")
        case.center_id = center_id if center_id is not None else case.center_id
        case.department_id = department_id if department_id is not None else case.department_id
    elif action is Action.escalate:
        tier = tier_above(tier)
        case.tier = tier.value
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
            raise CaseInputError("satisfaction", "a follow-up records satisfaction")
        case.followed_up_at = at
        case.satisfaction = satisfaction.value
    elif action is Action.reopen:
        case.resolved_at = None
        case.resolved_tier = None
        case.followed_up_at = None
        case.satisfaction = None
    if after is not before or action in (Action.escalate, Action.reopen):
        since = at if action is Action.reopen else received
        if after not in (Status.resolved, Status.followed_up):
            case.due_at = due_at(after, tier=tier, source=source, received_at=received, since=since, rules=rules,
                                 category=Category(case.category))
    case.status = after.value
    case.updated_at = at
    refresh_alert(case, now=at, rules=rules)
    return CaseEvent(case_id=case.id, at=at, actor=actor, action=action.value, from_status=before.value,
                     to_status=after.value, note=note)
