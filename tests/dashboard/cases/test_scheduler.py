"""The deadline scheduler with a controlled clock, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard.cases import scheduler
from dashboard.runtime import Runtime
from dashboard.domain.vocabulary import Action, Tier
from data_access import cases, redis_keys
from tests.factories import draft

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def _assessed(rt: Runtime, n: int, days_ago: float, tier: Tier = Tier.village) -> int:
    received = NOW - timedelta(days=days_ago)
    case, _ = rt.cases.submit(draft(n, received, tier=tier), actor="窗口", now=NOW)
    rt.cases.act(case.id, Action.assess, actor="研判员", at=received + timedelta(hours=2))
    return case.id


def test_late_cases_are_supervised_or_escalated_once(runtime: Runtime, county: str) -> None:
    very_late = _assessed(runtime, 1, days_ago=10.5)   # village deadline 7 d: 3.5 d late
    late = _assessed(runtime, 2, days_ago=8.5)         # 1.5 d late
    on_time = _assessed(runtime, 3, days_ago=2)
    first = scheduler.tick(runtime, now=NOW)
    assert (first.ran, first.escalated, first.supervised) == (True, 1, 1)
    again = scheduler.tick(runtime, now=NOW)
    assert (again.escalated, again.supervised, again.relevelled) == (0, 0, 0), "a repeated tick changes nothing"
    with runtime.sessions() as session:
        escalated, supervised, calm = (cases.get(session, i) for i in (very_late, late, on_time))
        assert escalated.tier == "township" and escalated.escalated and escalated.events[-1].actor == scheduler.ACTOR
        assert supervised.supervised and supervised.alert_level == "yellow" and "overdue" in supervised.alert_reasons
        assert not calm.supervised and calm.alert_level == "blue" and len(calm.events) == 2


def test_stored_level_follows_the_clock(runtime: Runtime, county: str) -> None:
    case_id = _assessed(runtime, 4, days_ago=29.5, tier=Tier.county)  # county deadline: 30 days
    scheduler.tick(runtime, now=NOW)
    with runtime.sessions() as session:
        assert cases.get(session, case_id).alert_reasons == "due_soon"  # type: ignore[union-attr]
    scheduler.tick(runtime, now=NOW + timedelta(days=8))
    with runtime.sessions() as session:
        stored = cases.get(session, case_id)
        assert stored is not None and stored.alert_level == "orange" and stored.alert_reasons.startswith("overdue_long")


def test_only_one_process_ticks_at_a_time(runtime: Runtime, county: str) -> None:
    held = runtime.redis.lock(redis_keys.scheduler_lock(county), timeout=30)
    assert held.acquire(blocking=False)
    try:
        assert scheduler.tick(runtime, now=NOW).ran is False
    finally:
        held.release()
