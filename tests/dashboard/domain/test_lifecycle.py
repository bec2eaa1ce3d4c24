from datetime import UTC, datetime, timedelta

import pytest

from dashboard.domain.lifecycle import TransitionError, due_at, next_status, tier_above
from dashboard.domain.rules import load_rules
from dashboard.domain.vocabulary import Action, Category, Source, Status, Tier

ALLOWED = {
    (Status.received, Action.assess): Status.assessed,
    (Status.assessed, Action.dispatch): Status.dispatched,
    (Status.dispatched, Action.mediate): Status.mediating,
    (Status.mediating, Action.resolve): Status.resolved,
    (Status.resolved, Action.follow_up): Status.followed_up,
    (Status.mediating, Action.escalate): Status.mediating,
    (Status.received, Action.supervise): Status.received,
    (Status.resolved, Action.reopen): Status.mediating,
    (Status.followed_up, Action.reopen): Status.mediating,
}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", [a for a in Action if a not in (Action.receive, Action.import_)])
def test_transition_table(status: Status, action: Action) -> None:
    expected = ALLOWED.get((status, action))
    side_moves = (Action.escalate, Action.supervise, Action.acknowledge, Action.assign)
    if expected is None and (action in side_moves and status not in (Status.resolved, Status.followed_up)):
        expected = status
    if action is Action.escalate and status is Status.received:
        expected = None
    if action is Action.dispatch and status is Status.dispatched:
        expected = Status.dispatched
    if expected is None:
        with pytest.raises(TransitionError):
            next_status(status, action)
    else:
        assert next_status(status, action) is expected


@pytest.mark.parametrize("action", [Action.receive, Action.import_])
def test_actions_that_start_a_case_do_not_change_one(action: Action) -> None:
    for status in Status:
        with pytest.raises(TransitionError, match="starts a case"):
            next_status(status, action)


def test_escalation_goes_up_and_stops_at_county() -> None:
    assert tier_above(Tier.village) is Tier.township
    assert tier_above(Tier.township) is Tier.county
    with pytest.raises(TransitionError):
        tier_above(Tier.county)


def test_deadlines_by_stage_tier_and_case_type() -> None:
    rules = load_rules()
    t0 = datetime(2026, 11, 1, tzinfo=UTC)

    def due(status: Status, tier: Tier, source: Source = Source.walk_in, category: Category = Category.neighbour):
        return due_at(status, tier=tier, source=source, received_at=t0, since=t0, rules=rules, category=category) - t0

    assert due(Status.received, Tier.county) == timedelta(hours=24)
    assert due(Status.mediating, Tier.village) == timedelta(days=7)
    assert due(Status.mediating, Tier.township) == timedelta(days=15)
    assert due(Status.mediating, Tier.county) == timedelta(days=30)
    assert due(Status.mediating, Tier.village, source=Source.petition) == timedelta(days=60)
    assert due(Status.mediating, Tier.county, category=Category.labour_wages) == timedelta(days=5)
