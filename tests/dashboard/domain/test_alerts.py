from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.domain.alerts import CaseFacts, area_alert, case_alert, is_spike, raise_one
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import AlertLevel

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
CALM = CaseFacts(people_involved=2, risk_extreme=False, risk_mass_incident=False, beyond_county_petition=False,
                 repeat_petition=False, escalated=False, due_at=NOW + timedelta(days=5), closed=False)


@pytest.mark.parametrize(
    ("change", "level", "reason"),
    [
        ({}, AlertLevel.blue, None),
        ({"people_involved": 30}, AlertLevel.red, "people_red"),
        ({"people_involved": 29}, AlertLevel.orange, "people_orange"),
        ({"people_involved": 10}, AlertLevel.orange, "people_orange"),
        ({"people_involved": 9}, AlertLevel.blue, None),
        ({"risk_extreme": True}, AlertLevel.red, "risk_extreme"),
        ({"risk_mass_incident": True}, AlertLevel.red, "risk_mass_incident"),
        ({"beyond_county_petition": True}, AlertLevel.red, "beyond_county_petition"),
        ({"repeat_petition": True}, AlertLevel.orange, "repeat_petition"),
        ({"escalated": True}, AlertLevel.yellow, "escalated"),
        ({"due_at": NOW + timedelta(hours=23)}, AlertLevel.yellow, "due_soon"),
        ({"due_at": NOW - timedelta(hours=1)}, AlertLevel.yellow, "overdue"),
        ({"due_at": NOW - timedelta(days=7)}, AlertLevel.orange, "overdue_long"),
    ],
)
def test_case_level_and_reason(rules: Rules, change: dict, level: AlertLevel, reason: str | None) -> None:
    alert = case_alert(replace(CALM, **change), now=NOW, rules=rules)
    assert alert is not None and alert.level is level
    assert (alert.reasons[0] if alert.reasons else None) == reason


def test_reasons_are_all_kept_worst_first(rules: Rules) -> None:
    alert = case_alert(replace(CALM, people_involved=12, risk_extreme=True, escalated=True), now=NOW, rules=rules)
    assert alert is not None
    assert alert.reasons == ("risk_extreme", "people_orange", "escalated")


def test_closed_case_carries_no_alert(rules: Rules) -> None:
    assert case_alert(replace(CALM, people_involved=100, closed=True), now=NOW, rules=rules) is None


def test_three_level_county_folds_orange_into_yellow(rules: Rules) -> None:
    three = replace(rules, levels=3)
    alert = case_alert(replace(CALM, repeat_petition=True), now=NOW, rules=three)
    assert alert is not None and alert.level is AlertLevel.yellow
    assert raise_one(AlertLevel.yellow, three) is AlertLevel.red


def test_area_takes_worst_and_rises_on_spike(rules: Rules) -> None:
    calm = case_alert(CALM, now=NOW, rules=rules)
    hot = case_alert(replace(CALM, repeat_petition=True), now=NOW, rules=rules)
    assert area_alert([calm, hot], spike=False, rules=rules).level is AlertLevel.orange  # type: ignore[union-attr,list-item]
    spiked = area_alert([calm, hot], spike=True, rules=rules)  # type: ignore[list-item]
    assert spiked is not None and spiked.level is AlertLevel.red and spiked.reasons[0] == "spike"
    assert area_alert([], spike=True, rules=rules).level is AlertLevel.yellow  # type: ignore[union-attr]
    assert area_alert([], spike=False, rules=rules) is None


def test_spike_needs_three_sigmas_and_a_minimum(rules: Rules) -> None:
    baseline = [2, 3, 2, 4, 3, 2, 3] * 4
    assert not is_spike(4, baseline, rules)
    assert is_spike(9, baseline, rules)
    assert not is_spike(1, [0] * 28, rules), "one case in a quiet grid is not a spike"
