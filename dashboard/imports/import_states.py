"""An imported case's end state and its one event row, computed directly from the checked row.

Replaying assess → dispatch → mediate → resolve → follow_up through ``casework.act`` on ORM
objects cost 270–410 µs a row. An import only ever walks the main loop forward with no side
moves, so the end state is a short formula of the row: the deadline is the assessment one until
assessed and the resolution one after, resolution fields come from ``resolved_at``, and the level
is computed once at ``now`` by the same alert rules. Plain slotted objects keep it cheap, and
``tests/dashboard/imports/test_import_states.py`` holds it field by field to the replay.

The event log gets one ``import`` event per case: who imported it, when, into which state, from
which file row. A file gives receipt and resolution times but not when a case was assessed,
dispatched or mediated; the replay's evenly spaced steps were invented times, and at about six
event rows a case they were most of what PostgreSQL had to write.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from dashboard.domain.alerts import case_alert
from dashboard.cases.casework import CaseInputError, draft_columns
from dashboard.domain.contributions import Contribution, case_facts, figure_flags
from dashboard.domain.lifecycle import due_at
from dashboard.domain.periods import as_utc, day_key, local_date
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import CLOSED_STATUSES, Action, Category, Satisfaction, Source, Status, Tier
from data_access.areas import GridPlace
from data_access.bulk_cases import CASE_COLUMNS

if TYPE_CHECKING:
    from dashboard.imports.case_import import ImportRow

EventRow = tuple[datetime, str, str, str | None, str, str]
"""``(at, actor, action, from_status, to_status, note)``, as ``bulk_cases.EVENT_COLUMNS``."""


@dataclass(slots=True)
class CaseState:
    """One case row as plain attributes: what the bulk insert writes and ``contribution`` reads."""

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
    center_id: int | None
    department_id: int | None
    first_receiver: str
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
    id: int = 0
    """0 until stored; ``contribution`` does not read it, the import pairs ids with contributions itself."""


STATE_COLUMNS: tuple[str, ...] = tuple(name for name in CASE_COLUMNS if name in CaseState.__dataclass_fields__)
"""The case columns an import sets; the others (personal data, say) keep their column default."""
_VALUES = attrgetter(*STATE_COLUMNS)


def case_values(state: CaseState) -> tuple[Any, ...]:
    """The row in ``STATE_COLUMNS`` order."""
    return _VALUES(state)  # type: ignore[no-any-return]


_LOOP = (Status.received, Status.assessed, Status.dispatched, Status.mediating, Status.resolved, Status.followed_up)
_STEPS = {status: n for n, status in enumerate(_LOOP)}
"""For each status an import row may name: how many forward steps lead there from receipt."""


def import_event(status: Status, *, actor: str, now: datetime, note: str) -> EventRow:
    """The one event an imported case gets: brought in by ``actor`` at ``now`` in ``status``."""
    return (now, actor, Action.import_.value, None, status.value, note)


def case_state(row: ImportRow, *, actor: str, now: datetime, rules: Rules, note: str = "") -> tuple[CaseState, EventRow]:
    """The case as ``case_import.build_case`` leaves it, and its import event.

    ``updated_at`` is the time of the last step the replay would take: a closed case spreads
    assess, dispatch and mediate over quarters of receipt → resolution; an open case takes all its
    steps at receipt.
    """
    draft, place, status = row.draft, row.place, row.status
    received = as_utc(draft.received_at)
    if received > as_utc(now):
        raise CaseInputError("received_at", "lies in the future")
    tier = draft.tier
    steps = _STEPS[status]
    closed = status in CLOSED_STATUSES
    end = as_utc(row.resolved_at) if row.resolved_at is not None else None
    if steps and end is not None and end < received:
        raise CaseInputError("at", "an event cannot predate the case's last change")
    if status is Status.followed_up and row.satisfaction is None:
        raise CaseInputError("satisfaction", "a follow-up records satisfaction")
    at = received
    if end is not None and steps:
        at = end if steps > 3 else received + (end - received) * steps / 4
    resolved = (end or received) if closed else None
    stage = Status.received if status is Status.received else Status.assessed
    deadline = due_at(stage, tier=tier, source=draft.source, received_at=received, since=received, rules=rules,
                      category=draft.category)
    followed = status is Status.followed_up
    state = CaseState(
        **draft_columns(draft, place),  # type: ignore[arg-type]
        status=status.value,
        tier=tier.value,
        escalated=False,
        supervised=False,
        center_id=None,
        department_id=None,
        first_receiver=actor,
        acknowledged_at=None,
        acknowledged_by=None,
        received_at=received,
        due_at=deadline,
        resolved_at=resolved,
        resolved_tier=tier.value if closed else None,
        outcome="" if closed else None,
        followed_up_at=resolved if followed else None,
        satisfaction=row.satisfaction.value if followed else None,
        alert_level=None,
        alert_reasons="",
        updated_at=at,
    )
    if not closed:
        alert = case_alert(case_facts(state), now=now, rules=rules)
        if alert is not None:
            state.alert_level = alert.level.value
            state.alert_reasons = ",".join(alert.reasons)
    return state, import_event(status, actor=actor, now=as_utc(now), note=note)


def closed_case(*, source: Source, external_ref: str, category: Category, description: str, people: int,
                place: GridPlace, lon: float | None, lat: float | None, status: Status, tier: Tier,
                received_at: datetime, resolved_at: datetime, satisfaction: Satisfaction | None, actor: str,
                rules: Rules) -> tuple[tuple[Any, ...], Contribution]:
    """``case_state`` of a closed row (resolved or followed up) as its values in ``STATE_COLUMNS``
    order, with its contribution, and no object in between.

    Nineteen rows in twenty of a county's history are closed, and a closed case has no alert to
    compute: its end state is a handful of assignments. ``received_at`` and ``resolved_at`` are
    UTC, already checked (resolution not before receipt, neither after ``now``), as are the draft's
    own rules; ``tests/dashboard/imports/test_import_states.py`` holds this to ``case_state``.
    """
    deadline = due_at(Status.assessed, tier=tier, source=source, received_at=received_at, since=received_at,
                      rules=rules, category=category)
    text = _TEXT.__getitem__
    source_text, category_text, tier_text = text(source), text(category), text(tier)
    followed = status is Status.followed_up
    kept = text(satisfaction) if followed and satisfaction is not None else None
    values = (
        source_text, external_ref, category_text, description, people, False, False, False, False,
        place.county_code, place.township_code, place.village_code, place.grid_code, lon, lat,
        text(status), tier_text, False, False, None, None, actor, None, None,
        received_at, deadline, resolved_at, tier_text, "", resolved_at if followed else None, kept, None, "",
        resolved_at,
    )
    areas = (place.county_code, place.township_code, place.village_code, place.grid_code)
    flags = figure_flags(resolved_at, tier_text, deadline, kept)
    return values, Contribution(day_key(local_date(received_at)), areas, category_text, source_text, flags, None)


_TEXT: dict[StrEnum, str] = {member: member.value for kind in (Source, Category, Status, Tier, Satisfaction)
                             for member in kind}
"""Members' values by dictionary: ``member.value`` goes through a descriptor at six times the cost."""
