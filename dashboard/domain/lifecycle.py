"""The closed loop: which action may follow which state, and the deadline each state carries."""

from __future__ import annotations

from datetime import datetime, timedelta

from dashboard.domain.errors import TransitionError
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import CLOSED_STATUSES, Action, Category, Source, Status, Tier

OPEN_STATUSES = frozenset(Status) - CLOSED_STATUSES

__all__ = ["OPEN_STATUSES", "TransitionError", "due_at", "next_status", "tier_above"]

_NEXT: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.assess: (frozenset({Status.received}), Status.assessed),
    Action.dispatch: (frozenset({Status.assessed, Status.dispatched}), Status.dispatched),
    Action.mediate: (frozenset({Status.dispatched}), Status.mediating),
    Action.resolve: (frozenset({Status.mediating}), Status.resolved),
    Action.follow_up: (frozenset({Status.resolved}), Status.followed_up),
    Action.escalate: (OPEN_STATUSES - {Status.received}, None),
    Action.supervise: (OPEN_STATUSES, None),
    Action.reopen: (CLOSED_STATUSES, Status.mediating),
    Action.acknowledge: (OPEN_STATUSES, None),
    Action.assign: (OPEN_STATUSES, None),
}
"""Acknowledge and assign are side moves on open cases only: a duty officer's click never
reopens or alters a resolved case."""

_TIER_ABOVE = {Tier.village: Tier.township, Tier.township: Tier.county}


def next_status(current: Status, action: Action) -> Status:
    """The state after ``action``; side moves (escalate, supervise) keep the state."""
    if action not in _NEXT:
        raise TransitionError(f"{action.value} starts a case; it is not a change to one")
    allowed, target = _NEXT[action]
    if current not in allowed:
        raise TransitionError(f"cannot {action.value} a case that is {current.value}")
    return target or current


def tier_above(tier: Tier) -> Tier:
    if tier not in _TIER_ABOVE:
        raise TransitionError("a county-tier case cannot be escalated further")
    return _TIER_ABOVE[tier]


def due_at(
    status: Status, *, tier: Tier, source: Source, received_at: datetime, since: datetime, rules: Rules,
    category: Category | None = None,
) -> datetime:
    """Deadline of the stage a case is in.

    Assessment runs from receipt; resolution runs from receipt too (the citizen's clock), except
    after a reopen, when ``since`` is the reopen time. Petitions keep their statutory 60 days; a
    case type with its own days overrides the tier's.
    """
    if status is Status.received:
        return received_at + timedelta(hours=rules.assess_hours)
    if status in CLOSED_STATUSES:
        return since + timedelta(days=rules.follow_up_days)
    if source is Source.petition:
        days = rules.petition_resolve_days
    elif category in rules.category_resolve_days:
        days = rules.category_resolve_days[category]  # type: ignore[index]
    else:
        days = rules.resolve_days[tier]
    return since + timedelta(days=days)
