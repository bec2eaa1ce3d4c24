"""The reference the import's replay is held to: ``new_case`` and one ``act`` per step, on ORM rows.

This is how any other writer would walk a case from receipt to a row's status, event by event;
``casework.replayed_case`` must leave every column it sets exactly as this does.
"""

from __future__ import annotations

from datetime import datetime

from dashboard.cases.casework import act, lifecycle_steps, new_case, refresh_alert
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import Action
from dashboard.imports.row_check import ImportRow
from data_access.models import Case, CaseEvent


def build_case(row: ImportRow, *, actor: str, now: datetime, rules: Rules) -> tuple[Case, list[CaseEvent]]:
    """The case and its events through the write path's ORM functions; nothing touches a session."""
    case, first = new_case(row.draft, row.place, actor=actor, now=now, rules=rules)
    events = [first]
    for action, at in lifecycle_steps(row.status, case.received_at, row.resolved_at):
        extra = {"satisfaction": row.satisfaction} if action is Action.follow_up else {}
        events.append(act(case, action, actor=actor, at=at, rules=rules, **extra))  # type: ignore[arg-type]
    refresh_alert(case, now=now, rules=rules)
    return case, events
