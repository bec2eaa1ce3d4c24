"""Alert levels with their reasons (DESIGN.md "Alert levels").

A case's level mixes facts (people involved, risk flags) and time (deadlines), so the level is
always computed for a given ``now``; closed cases carry no alert.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import AlertLevel


@dataclass(frozen=True)
class CaseFacts:
    """What the alert rules read about one case."""

    people_involved: int
    risk_extreme: bool
    risk_mass_incident: bool
    beyond_county_petition: bool
    repeat_petition: bool
    escalated: bool
    due_at: datetime
    closed: bool
    awaiting_assessment: bool = False
    """The 24-hour assessment window would make every new case "due soon"; it warns only when late."""


@dataclass(frozen=True)
class Alert:
    level: AlertLevel
    reasons: tuple[str, ...]
    """Reason codes, most serious first; ``dashboard.domain.labels`` turns them into words."""


def _fold(level: AlertLevel, rules: Rules) -> AlertLevel:
    """A three-level county has no orange: it counts as yellow."""
    if rules.levels == 3 and level is AlertLevel.orange:
        return AlertLevel.yellow
    return level


def fact_reasons(facts: CaseFacts, rules: Rules) -> list[tuple[AlertLevel, str]]:
    """Reasons that do not depend on the clock."""
    found: list[tuple[AlertLevel, str]] = []
    if facts.people_involved >= rules.red_people:
        found.append((AlertLevel.red, "people_red"))
    if facts.risk_extreme:
        found.append((AlertLevel.red, "risk_extreme"))
    if facts.risk_mass_incident:
        found.append((AlertLevel.red, "risk_mass_incident"))
    if facts.beyond_county_petition:
        found.append((AlertLevel.red, "beyond_county_petition"))
    if rules.orange_people <= facts.people_involved < rules.red_people:
        found.append((AlertLevel.orange, "people_orange"))
    if facts.repeat_petition:
        found.append((AlertLevel.orange, "repeat_petition"))
    if facts.escalated:
        found.append((AlertLevel.yellow, "escalated"))
    return found


def clock_reasons(
    due_at: datetime, now: datetime, rules: Rules, *, warn_early: bool = True
) -> list[tuple[AlertLevel, str]]:
    """Reasons that appear as time passes."""
    if now >= due_at + timedelta(days=rules.orange_overdue_days):
        return [(AlertLevel.orange, "overdue_long")]
    if now > due_at:
        return [(AlertLevel.yellow, "overdue")]
    if warn_early and now >= due_at - timedelta(hours=rules.yellow_due_within_hours):
        return [(AlertLevel.yellow, "due_soon")]
    return []


def case_alert(facts: CaseFacts, *, now: datetime, rules: Rules) -> Alert | None:
    """The level of one case at ``now`` and why; ``None`` for a closed case."""
    if facts.closed:
        return None
    return alert_from_reasons(fact_reasons(facts, rules), due_at=facts.due_at, now=now, rules=rules,
                              warn_early=not facts.awaiting_assessment)


def alert_from_reasons(
    facts_found: Sequence[tuple[AlertLevel, str]], *, due_at: datetime, now: datetime, rules: Rules,
    warn_early: bool = True,
) -> Alert:
    """Combine stored fact reasons with the clock; lets a cache keep facts and add time later."""
    return combine_reasons(list(facts_found) + clock_reasons(due_at, now, rules, warn_early=warn_early), rules)


def combine_reasons(found: Sequence[tuple[AlertLevel, str]], rules: Rules) -> Alert:
    """The worst reason sets the level (orange shows as yellow in a three-level county); every
    reason is kept, worst first. Blue when there is none: an open case always has a level."""
    if not found:
        return Alert(AlertLevel.blue, ())
    folded = sorted(((_fold(level, rules), code) for level, code in found), key=lambda item: -item[0].rank)
    return Alert(folded[0][0], tuple(code for _, code in folded))


def is_spike(today: int, baseline: Sequence[int], rules: Rules) -> bool:
    """New cases today beyond the baseline mean by ``spike_sigmas`` standard deviations."""
    if today < rules.spike_min_cases or not baseline:
        return False
    count = len(baseline)
    mean = sum(baseline) / count
    spread = math.sqrt(sum((x - mean) ** 2 for x in baseline) / count)  # population sd, as pstdev
    return today > mean + rules.spike_sigmas * spread


def raise_one(level: AlertLevel | None, rules: Rules) -> AlertLevel:
    """One level up, at least yellow, never past red."""
    order = [lv for lv in AlertLevel if rules.levels == 4 or lv is not AlertLevel.orange]
    if level is None or level.rank < AlertLevel.yellow.rank:
        return AlertLevel.yellow
    return order[min(order.index(level) + 1, len(order) - 1)]


def area_alert(case_alerts: Iterable[Alert], *, spike: bool, rules: Rules) -> Alert | None:
    """An area takes its worst open case's level, raised one step on a spike."""
    worst: Alert | None = None
    for alert in case_alerts:
        if worst is None or alert.level.rank > worst.level.rank:
            worst = alert
    if not spike:
        return worst
    base = worst.level if worst else None
    return Alert(raise_one(base, rules), ("spike", *(worst.reasons if worst else ())))
