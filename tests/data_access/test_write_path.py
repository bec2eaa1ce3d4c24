"""The write path against real servers and the embedded default: SQL, Redis and the wall agree."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest
import redis

from dashboard.cases import cache_ops
from dashboard.cases.apply import apply_and_publish, contributions
from dashboard.domain.errors import FieldError
from dashboard.domain.contributions import FIGURES
from dashboard.domain.figures import PeriodCounts
from dashboard.domain.lifecycle import TransitionError
from dashboard.domain.periods import Period, local_date
from dashboard.runtime import Runtime
from dashboard.domain.vocabulary import Action, Satisfaction, Source
from dashboard.screens.wall_service import SnapshotCache
from data_access import aggregates, cases, figure_queries, redis_keys
from tests.factories import draft, hours

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai


def _walk_to_resolved(rt: Runtime, case_id: int, start: datetime, *, satisfied: bool | None = None) -> None:
    for step, action in enumerate((Action.assess, Action.dispatch, Action.mediate, Action.resolve), start=1):
        rt.cases.act(case_id, action, actor="调解员", at=start + hours(step))
    if satisfied is not None:
        rt.cases.act(case_id, Action.follow_up, actor="回访员", at=start + hours(6),
                     satisfaction=Satisfaction.satisfied if satisfied else Satisfaction.dissatisfied)


def _history(rt: Runtime) -> None:
    """Forty days of mixed cases: closed, open, overdue, red, escalated, reopened."""
    for n in range(60):
        received = NOW - timedelta(days=40) + timedelta(hours=16 * n)
        facts: dict[str, object] = {}
        if n % 17 == 0:
            facts["people_involved"] = 35
        if n % 11 == 0:
            facts["source"] = Source.petition
        case, created = rt.cases.submit(draft(n, received, **facts), actor="窗口", now=NOW)
        assert created
        if n % 3 != 0 and received + hours(8) < NOW:
            _walk_to_resolved(rt, case.id, received, satisfied=(n % 2 == 0) if n % 5 else None)
        elif n % 3 == 0 and n % 2 == 0 and received + hours(3) < NOW:
            rt.cases.act(case.id, Action.assess, actor="研判员", at=received + hours(1))
            rt.cases.act(case.id, Action.dispatch, actor="分流员", at=received + hours(2))
            rt.cases.act(case.id, Action.mediate, actor="调解员", at=received + hours(3))
            if n % 4 == 0:
                rt.cases.act(case.id, Action.escalate, actor="调解员", at=received + hours(3))
    reopened = rt.cases.submit(draft(999, NOW - timedelta(days=2)), actor="窗口", now=NOW)[0]
    _walk_to_resolved(rt, reopened.id, NOW - timedelta(days=2))
    rt.cases.act(reopened.id, Action.reopen, actor="回访员", at=NOW - timedelta(hours=5))


def test_every_wall_figure_equals_its_sql_definition(runtime: Runtime, county: str) -> None:
    _history(runtime)
    snapshot = SnapshotCache(runtime).get(county, NOW)
    today = Period.trailing(local_date(NOW), 1)
    month = Period.trailing(local_date(NOW), 30)
    with runtime.sessions() as session:
        sql_today = figure_queries.period_counts(session, county_code=county, start=today.start, end=today.end)
        sql_month = figure_queries.period_counts(session, county_code=county, start=month.start, end=month.end)
        sql_now = figure_queries.instant_counts(session, county_code=county, now=NOW)
        for grid in ("990101001001001", "990101002002002"):
            sql_grid = figure_queries.period_counts(session, county_code=county, start=month.start, end=month.end,
                                                    area=("grid", grid))
            assert snapshot.areas[grid].last_30_days == sql_grid
            assert snapshot.areas[grid].open == figure_queries.instant_counts(
                session, county_code=county, now=NOW, area=("grid", grid)).open
    assert snapshot.figures.today == sql_today
    assert snapshot.figures.last_30_days == sql_month
    assert snapshot.figures.now == sql_now
    assert sql_month.received > 30 and 0 < sql_now.open < sql_month.received
    assert sql_now.red >= 1 and sql_now.overdue >= 1, "the history must exercise red and overdue"
    assert snapshot.figures.last_30_days.closure_rate == round(100 * sql_month.closed / sql_month.received, 2)


def test_cache_reconciles_and_rebuild_matches_incremental(runtime: Runtime, county: str) -> None:
    _history(runtime)
    with runtime.sessions() as session:
        assert cache_ops.reconcile(session, runtime.redis, county, runtime.rules) == []
        incremental = aggregates.read_all_days(runtime.redis, county)
        cache_ops.rebuild(session, runtime.redis, county, runtime.rules)
        rebuilt = aggregates.read_all_days(runtime.redis, county)
        assert cache_ops.reconcile(session, runtime.redis, county, runtime.rules) == []
    strip = lambda days: {d: {k: v for k, v in c.items() if v} for d, c in days.items()}  # noqa: E731
    assert strip(incremental) == {d: c for d, c in strip(rebuilt).items() if c}


def test_reconcile_reports_a_tampered_cache(runtime: Runtime, county: str) -> None:
    _history(runtime)
    day = next(iter(aggregates.read_all_days(runtime.redis, county)))
    slot = aggregates.area_indexes(runtime.redis, county)[county] * len(FIGURES) + FIGURES.index("received")
    runtime.redis.bitfield(redis_keys.day(county, day)).incrby("i32", f"#{slot}", 1).execute()
    with runtime.sessions() as session:
        diffs = cache_ops.reconcile(session, runtime.redis, county, runtime.rules)
    assert [d.key for d in diffs] == [f"day {day} {county}:received"]


def test_repeat_submission_returns_the_same_case_and_counts_once(runtime: Runtime, county: str) -> None:
    first, created = runtime.cases.submit(draft(1, NOW - hours(2)), actor="窗口", now=NOW)
    again, created_again = runtime.cases.submit(draft(1, NOW - hours(2)), actor="窗口", now=NOW)
    assert created and not created_again and first.id == again.id
    runtime.cases.push([again])  # the same state applied twice
    snapshot = SnapshotCache(runtime).get(county, NOW)
    assert snapshot.figures.today.received == 1
    with runtime.sessions() as session:
        assert cases.count(session, county) == 1
        assert len(cases.get(session, first.id).events) == 1  # type: ignore[union-attr]


def _published(pubsub: redis.client.PubSub) -> list[str]:
    """Every change message received so far."""
    out: list[str] = []
    while (message := pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)) is not None:
        out.append(message["data"].decode())
    return out


def test_each_write_applies_and_publishes_its_version_once(runtime: Runtime, county: str) -> None:
    pubsub = runtime.redis.pubsub()
    pubsub.subscribe(redis_keys.changes_channel(county))
    assert pubsub.get_message(timeout=2)["type"] == "subscribe"  # type: ignore[index]
    try:
        case, _ = runtime.cases.submit(draft(11, NOW - hours(3)), actor="窗口", now=NOW)
        first = aggregates.version(runtime.redis, county)
        runtime.cases.act(case.id, Action.assess, actor="研判员", at=NOW - hours(2))
        second = aggregates.version(runtime.redis, county)
        assert _published(pubsub) == [str(first), str(second)] and second > first
        batch = apply_and_publish(runtime.redis, county, contributions([case], runtime.rules), fresh=True)
        assert _published(pubsub) == [str(batch)], "a batch is published once"
        assert apply_and_publish(runtime.redis, county, []) is None and _published(pubsub) == []
    finally:
        pubsub.close()


@pytest.mark.parametrize(
    ("change", "field"),
    [({"grid_code": "000000000000000"}, "grid_code"), ({"received_at": NOW + hours(1)}, "received_at")],
)
def test_refused_case_leaves_no_trace(runtime: Runtime, county: str, change: dict, field: str) -> None:
    with pytest.raises(FieldError) as error:
        runtime.cases.submit(draft(5, **{"received_at": NOW - hours(1), **change}), actor="窗口", now=NOW)
    assert error.value.field == field
    with runtime.sessions() as session:
        assert cases.count(session, county) == 0
    assert aggregates.read_all_days(runtime.redis, county) == {}


def test_invalid_transition_is_refused_and_changes_nothing(runtime: Runtime, county: str) -> None:
    case, _ = runtime.cases.submit(draft(7, NOW - hours(3)), actor="窗口", now=NOW)
    version = aggregates.version(runtime.redis, county)
    with pytest.raises(TransitionError):
        runtime.cases.act(case.id, Action.resolve, actor="调解员", at=NOW)
    with runtime.sessions() as session:
        stored = cases.get(session, case.id)
        assert stored is not None and stored.status == "received" and len(stored.events) == 1
    assert aggregates.version(runtime.redis, county) == version


def test_events_log_every_change(runtime: Runtime, county: str) -> None:
    case, _ = runtime.cases.submit(draft(8, NOW - hours(10)), actor="网格员张", now=NOW)
    _walk_to_resolved(runtime, case.id, NOW - hours(10), satisfied=True)
    with runtime.sessions() as session:
        stored = cases.get(session, case.id)
        assert stored is not None
        assert [e.action for e in stored.events] == ["receive", "assess", "dispatch", "mediate", "resolve", "follow_up"]
        assert stored.first_receiver == "网格员张" and stored.resolved_tier == "village"
        assert stored.events[-1].to_status == "followed_up" and stored.satisfaction == "satisfied"


def test_period_counts_field_names_match_sql_columns() -> None:
    assert list(figure_queries.period_columns()) == [f.name for f in fields(PeriodCounts)]


def test_screen_period_figure_equals_sql(runtime: Runtime, county: str) -> None:
    _history(runtime)
    snapshot = SnapshotCache(runtime).get(county, NOW, period_days=365)
    year = Period.trailing(local_date(NOW), 365)
    with runtime.sessions() as session:
        sql = figure_queries.period_counts(session, county_code=county, start=year.start, end=year.end)
    assert snapshot.figures.period == sql and snapshot.figures.period_days == 365
    assert sql.received > snapshot.figures.last_30_days.received
