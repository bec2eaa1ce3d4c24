"""The O(areas) aggregates: idempotent writes, deadlines that move with the clock, spikes, rebuild."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from datetime import UTC, timedelta
from typing import NoReturn, TypeVar

import numpy as np
import redis
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.cases import cache_ops, case_service
from dashboard.cases.apply import apply_and_publish
from dashboard.cases.casework import new_case
from dashboard.imports.case_import import import_cases

from dashboard.screens import wall_snapshot
from dashboard.domain.alerts import CaseFacts, case_alert, fact_reasons
from dashboard.domain.contributions import CATEGORIES, FACT_CODES, SOURCES, case_facts, contribution
from dashboard.domain.rules import Rules
from dashboard.runtime import Runtime
from dashboard.domain.vocabulary import Action, AlertLevel
from dashboard.screens.wall_service import SnapshotCache
from dashboard.screens.wall_snapshot import AreaState, deadline_bounds, decode, encode
from data_access import aggregates, case_columns, cases, figure_queries, outbox, redis_keys
from data_access.models import Case
from tests.conftest import clear_namespace
from tests.dashboard.imports.test_case_import import _row, _write_csv
from tests.data_access.test_write_path import NOW, _history
from tests.factories import GRID_CODES, draft, hours
from tests.waiting import wait_until

T = TypeVar("T")


def _state(rt: Runtime, county: str) -> tuple[object, ...]:
    return (aggregates.read_all_days(rt.redis, county), aggregates.read_open(rt.redis, county),
            aggregates.read_open_counts(rt.redis, county))


def test_fact_codes_follow_the_alert_rules(rules: Rules) -> None:
    calm = CaseFacts(people_involved=2, risk_extreme=True, risk_mass_incident=True, beyond_county_petition=True,
                     repeat_petition=True, escalated=True, due_at=NOW, closed=False)
    red = [code for _, code in fact_reasons(replace(calm, people_involved=rules.red_people), rules)]
    orange = [code for _, code in fact_reasons(replace(calm, people_involved=rules.orange_people), rules)]
    assert red == [code for _, code in FACT_CODES if code != "people_orange"]
    assert orange == [code for _, code in FACT_CODES if code != "people_red"]
    levels = dict((code, level) for level, code in fact_reasons(replace(calm, people_involved=rules.red_people), rules))
    assert all(levels.get(code, level) is level for level, code in FACT_CODES)


def test_an_update_applied_twice_counts_once(runtime: Runtime, county: str) -> None:
    case, _ = runtime.cases.submit(draft(1, NOW - hours(30), people_involved=40), actor="窗口", now=NOW)
    runtime.cases.act(case.id, Action.assess, actor="研判员", at=NOW - hours(29))
    with runtime.sessions() as session:
        stored = cases.get(session, case.id)
        assert stored is not None
        same = contribution(stored, runtime.rules)
    before, version = _state(runtime, county), aggregates.version(runtime.redis, county)
    for _ in range(2):
        assert aggregates.apply_case(runtime.redis, county, case.id, same) == version
        assert aggregates.apply_new_cases(runtime.redis, county, [(case.id, same)]) == version
    assert _state(runtime, county) == before
    counts = aggregates.read_open_counts(runtime.redis, county)
    assert counts[county][:2] == (1, 1), "one open case, red, however often it is applied"
    with runtime.sessions() as session:
        assert cache_ops.reconcile(session, runtime.redis, county, runtime.rules) == []


def test_overdue_and_due_soon_move_with_the_clock(runtime: Runtime, county: str) -> None:
    assessed, _ = runtime.cases.submit(draft(0, NOW - hours(2)), actor="窗口", now=NOW)
    runtime.cases.act(assessed.id, Action.assess, actor="研判员", at=NOW - hours(1))
    waiting, _ = runtime.cases.submit(draft(1, NOW - hours(1)), actor="窗口", now=NOW)
    with runtime.sessions() as session:
        rows = {c.id: c for c in cases.open_cases(session, county)}
    due = rows[assessed.id].due_at
    moments = [NOW, due - hours(12), due + hours(1), due + timedelta(days=7), due + timedelta(days=7, hours=1)]
    moments += [rows[waiting.id].due_at - hours(1), rows[waiting.id].due_at + hours(1)]
    seen: set[tuple[str, ...]] = set()
    for moment in moments:
        snapshot = SnapshotCache(runtime).get(county, moment)
        with runtime.sessions() as session:
            sql = figure_queries.instant_counts(session, county_code=county, now=moment)
        assert snapshot.figures.now == sql, moment
        for case_id, n in ((assessed.id, 0), (waiting.id, 1)):
            want = case_alert(case_facts(rows[case_id]), now=moment, rules=runtime.rules)
            state = snapshot.areas[GRID_CODES[n]]
            assert state.alert == want, (moment, case_id)
            assert state.overdue == int(rows[case_id].due_at < moment)
            seen.add(want.reasons if want else ())
    assert {("due_soon",), ("overdue",), ("overdue_long",), ()} <= seen


def test_a_waiting_case_never_warns_due_soon(runtime: Runtime, county: str) -> None:
    waiting, _ = runtime.cases.submit(draft(2, NOW - hours(20)), actor="窗口", now=NOW)
    state = SnapshotCache(runtime).get(county, NOW).areas[GRID_CODES[2]]
    assert state.alert is not None and state.alert.level is AlertLevel.blue and state.alert.reasons == ()
    assert aggregates.read_open(runtime.redis, county)[waiting.id].warn_early is False


def _spiking_grid(runtime: Runtime) -> str:
    """28 quiet days of one case a day in a grid, then four cases in the last hour."""
    grid = GRID_CODES[3]
    for day in range(1, 29):
        received = NOW - timedelta(days=day)
        case, _ = runtime.cases.submit(draft(100 + day, received, grid_code=grid), actor="窗口", now=NOW)
        for step, action in enumerate((Action.assess, Action.dispatch, Action.mediate, Action.resolve), start=1):
            runtime.cases.act(case.id, action, actor="调解员", at=received + hours(step))
    for n in range(4):
        runtime.cases.submit(draft(200 + n, NOW - hours(1 + n / 4), grid_code=grid), actor="窗口", now=NOW)
    return grid


def test_a_spike_raises_the_area_one_level_where_warnings_do_not_replace_it(runtime: Runtime, county: str) -> None:
    runtime.__dict__["rules"] = replace(runtime.rules, warnings=replace(runtime.rules.warnings, replaces_spike=False))
    grid = _spiking_grid(runtime)
    snapshot = SnapshotCache(runtime).get(county, NOW)
    for area in (grid, grid[:12]):
        alert = snapshot.areas[area].alert
        assert alert is not None and alert.level is AlertLevel.yellow and alert.reasons == ("spike",), area
    calm = snapshot.areas[county].alert
    assert calm is not None and "spike" not in calm.reasons or calm.level is not AlertLevel.blue


def test_by_default_warnings_replace_the_spike_rise(runtime: Runtime, county: str) -> None:
    """``[warnings] replaces_spike = true``: the same burst leaves the grid's level to its cases."""
    assert runtime.rules.warnings.replaces_spike
    grid = _spiking_grid(runtime)
    snapshot = SnapshotCache(runtime).get(county, NOW)
    for area in (grid, grid[:12]):
        alert = snapshot.areas[area].alert
        assert alert is not None and "spike" not in alert.reasons and alert.level is AlertLevel.blue, area


def test_rebuild_equals_the_incremental_path_everywhere(runtime: Runtime, county: str) -> None:
    _history(runtime)
    incremental = _state(runtime, county)
    before = SnapshotCache(runtime).compute(county, NOW)
    with runtime.sessions() as session:
        cache_ops.rebuild(session, runtime.redis, county, runtime.rules)
        assert cache_ops.reconcile(session, runtime.redis, county, runtime.rules) == []
    assert _state(runtime, county) == incremental
    after = SnapshotCache(runtime).compute(county, NOW)
    assert after.areas == before.areas and after.figures == before.figures


def test_worst_case_level_per_area_equals_the_case_rules(runtime: Runtime, county: str) -> None:
    _history(runtime)
    snapshot = SnapshotCache(runtime).get(county, NOW)
    with runtime.sessions() as session:
        opened = cases.open_cases(session, county)
    for area, state in snapshot.areas.items():
        alerts = [case_alert(case_facts(c), now=NOW, rules=runtime.rules) for c in opened
                  if area in (c.county_code, c.township_code, c.village_code, c.grid_code)]
        if state.alert is None or "spike" in state.alert.reasons:
            continue
        worst = max((a.level for a in alerts if a), key=lambda level: level.rank)
        assert state.alert.level is worst, area
        assert set(state.alert.reasons) == {r for a in alerts if a for r in a.reasons}, area


def test_shared_snapshot_round_trips(runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _history(runtime)
    snapshot = SnapshotCache(runtime).compute(county, NOW)
    minute = int(NOW.timestamp() // 60)
    assert len(snapshot.areas) > 3 and len({state.alert for state in snapshot.areas.values()}) > 1
    assert decode(encode(snapshot, minute), version=snapshot.version, minute=minute) == snapshot
    assert decode(encode(snapshot, minute), version=snapshot.version + 1, minute=minute) is None
    assert decode(encode(snapshot, minute), version=snapshot.version, minute=minute + 1) is None
    assert snapshot.computed_at == NOW and NOW.tzinfo is UTC
    big = replace(snapshot, areas={**snapshot.areas, "x": AreaState.from_counts(None, 2**40, 2**31, [2**31] * 8)})
    assert decode(encode(big, minute), version=snapshot.version, minute=minute) == big
    empty = replace(snapshot, areas={})
    assert decode(encode(empty, minute), version=snapshot.version, minute=minute) == empty
    with monkeypatch.context() as older_build:
        older_build.setattr(wall_snapshot, "_FORMAT", wall_snapshot._FORMAT - 1)
        older = encode(snapshot, minute)
    assert decode(older, version=snapshot.version, minute=minute) is None


def test_a_legacy_cut_short_or_garbled_snapshot_decodes_to_none(runtime: Runtime, county: str) -> None:
    _history(runtime)
    snapshot = SnapshotCache(runtime).compute(county, NOW)
    minute = int(NOW.timestamp() // 60)
    raw = encode(snapshot, minute)
    legacy = orjson.dumps({"k": 3, "v": snapshot.version, "m": minute, "c": county, "t": NOW.timestamp(),
                           "f": [[0] * 8, [0] * 8, [0, 0, 0]], "l": [], "a": {}})
    rng = random.Random(7)
    garbled = [bytes(rng.randrange(256) for _ in range(len(raw))), raw + b"\0", raw[:-1] + b"\xff" * 5]
    for blob in [legacy, b"", *garbled, *(raw[:cut] for cut in range(len(raw)))]:
        assert decode(blob, version=snapshot.version, minute=minute) is None, blob[:40]


def test_a_process_without_a_copy_reads_the_shared_snapshot_in_one_round_trip(
        runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _history(runtime)
    first = SnapshotCache(runtime).get(county, NOW)
    calls: list[str] = []
    for name in ("read_built_version", "read_shared_snapshot", "read_built_version_and_snapshot"):
        monkeypatch.setattr(aggregates, name, _counted(calls, name, getattr(aggregates, name)))
    monkeypatch.setattr(SnapshotCache, "compute", _refuse)
    cache = SnapshotCache(runtime)
    assert cache.get(county, NOW) == first
    assert calls == ["read_built_version_and_snapshot"]
    assert cache.get(county, NOW) == first
    assert calls == ["read_built_version_and_snapshot", "read_built_version"], "its own copy: no snapshot read"


def test_an_unreadable_shared_snapshot_is_recomputed_and_replaced(runtime: Runtime, county: str) -> None:
    _history(runtime)
    minute = int(NOW.timestamp() // 60)
    want = SnapshotCache(runtime).get(county, NOW)
    for blob in (b"{}", encode(want, minute)[:-3]):
        runtime.redis.set(redis_keys.snapshot(county), blob)
        assert SnapshotCache(runtime).get(county, NOW) == want
        shared = runtime.redis.get(redis_keys.snapshot(county))
        assert shared is not None and decode(shared, version=want.version, minute=minute) == want


def _counted(calls: list[str], name: str, read: Callable[..., T]) -> Callable[..., T]:
    def counted(*args: object, **kwargs: object) -> T:
        calls.append(name)
        return read(*args, **kwargs)
    return counted


def _refuse(*_: object) -> NoReturn:
    raise AssertionError("computed although another process shared this snapshot")


def test_codes_read_before_redis_was_emptied_are_not_reused(runtime: Runtime, county: str) -> None:
    bounds = deadline_bounds(NOW, runtime.rules)
    for n in (0, 1):
        clear_namespace(runtime.redis)
        runtime.cases.submit(draft(300 + n, NOW - hours(1), grid_code=GRID_CODES[n]), actor="窗口", now=NOW)
        state = aggregates.read_state(runtime.redis, county, [], now_us=bounds[0], long_us=bounds[1], soon_us=bounds[2])
        opened = dict(zip(state.codes, state.open[:, 0].tolist(), strict=True))
        assert opened.get(GRID_CODES[n]) == 1 and GRID_CODES[1 - n] not in opened


def test_rebuild_of_a_county_without_cases_is_empty_and_built(runtime: Runtime, county: str) -> None:
    with runtime.sessions() as session:
        report = cache_ops.rebuild(session, runtime.redis, county, runtime.rules)
        assert cache_ops.reconcile(session, runtime.redis, county, runtime.rules) == []
    assert (report.cases, report.open_cases, report.days) == (0, 0, 0)
    assert aggregates.is_built(runtime.redis, county)
    snapshot = SnapshotCache(runtime).get(county, NOW)
    assert snapshot.areas == {} and snapshot.figures.now.open == 0


def test_bulk_apply_across_record_strings_equals_applying_one_by_one(runtime: Runtime, county: str) -> None:
    """Imported ids written as runs of records, some already applied, across a record-string edge."""
    submitted = [runtime.cases.submit(draft(n, NOW - hours(40 - n), people_involved=1 + 9 * n), actor="窗口", now=NOW)[0]
                 for n in range(5)]
    runtime.cases.act(submitted[0].id, Action.assess, actor="研判员", at=NOW - hours(30))
    with runtime.sessions() as session:
        contribs = [contribution(cases.get(session, c.id), runtime.rules) for c in submitted]  # type: ignore[arg-type]
    edge = 4 * redis_keys.RECORD_BUCKET
    ids = [edge - 2, edge - 1, edge, edge + 1, 3 * edge + 7]
    assert [len(run) for _, _, run in aggregates._runs(county, ids)] == [2, 2, 1]
    items = list(zip(ids, contribs, strict=True))

    def fresh() -> None:
        clear_namespace(runtime.redis)
        aggregates.rebuild(runtime.redis, county, [])

    fresh()
    for case_id, contrib in items:
        aggregates.apply_case(runtime.redis, county, case_id, contrib)
    one_by_one = _state(runtime, county)
    fresh()
    aggregates.apply_case(runtime.redis, county, *items[2])
    aggregates.apply_new_cases(runtime.redis, county, reversed(items))
    assert _state(runtime, county) == one_by_one
    version = aggregates.version(runtime.redis, county)
    assert aggregates.apply_new_cases(runtime.redis, county, items) == version, "a repeat changes nothing"
    assert _state(runtime, county) == one_by_one


@pytest.mark.parametrize("bincount_factor", [0, 1_000_000], ids=["sorted", "binned"])
def test_counting_many_new_records_at_once_equals_counting_them_one_by_one(
    bincount_factor: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import's numpy count (either way of counting pairs) and the write path's per-record
    count give the same changes."""
    monkeypatch.setattr(aggregates, "_BINCOUNT_FACTOR", bincount_factor)
    rng = random.Random(7)
    records = [
        aggregates.Record(day=20_000 + rng.randrange(400), township=rng.randrange(1, 4), village=rng.randrange(4, 9),
                          grid=rng.randrange(9, 40), category=rng.randrange(len(CATEGORIES)),
                          source=rng.randrange(len(SOURCES)), flags=rng.randrange(256),
                          reasons=rng.randrange(1 << len(FACT_CODES)), warn=rng.random() < 0.5)
        for _ in range(3000)
    ]
    one_by_one, at_once = aggregates._changes(), aggregates._changes()
    for record in records:
        aggregates._count(one_by_one, "990101", 0, record, 1)
    table = np.frombuffer(b"".join(record.pack() for record in records), dtype=aggregates.RECORD_DTYPE)
    aggregates._count_new(at_once, "990101", 0, table)

    def plain(changes: aggregates.Changes) -> dict[str, dict[int, int]]:
        return {key: {slot: n for slot, n in slots.items() if n} for key, slots in changes.items()}

    assert plain(at_once) == plain(one_by_one)
    assert sum(1 for r in records if r.is_open) > 100 < sum(1 for r in records if not r.is_open)


def test_versions_keep_rising_across_a_redis_that_restarted_empty(runtime: Runtime, county: str) -> None:
    """Caches and screens key their states by version: a version must never come round again."""
    with runtime.sessions() as session:
        first = cache_ops.rebuild(session, runtime.redis, county, runtime.rules).version
        runtime.cases.submit(draft(1, NOW), actor="窗口", now=NOW)
        written = aggregates.version(runtime.redis, county)
        clear_namespace(runtime.redis)
        again = cache_ops.rebuild(session, runtime.redis, county, runtime.rules).version
        later = cache_ops.rebuild(session, runtime.redis, county, runtime.rules).version
    assert first < written < again < later


def test_a_case_written_while_a_rebuild_runs_is_not_wiped_by_it(
        runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild replaces every aggregate with what its SQL read saw. A case committed after that
    read and applied before the rebuild's write used to vanish from Redis until the next rebuild
    (the CI run where a wall never showed a case written as Redis came back empty)."""
    _history(runtime)
    with runtime.sessions() as session:  # built already, as by `cache rebuild` over a live Redis
        cache_ops.rebuild(session, runtime.redis, county, runtime.rules)
    read = case_columns.case_columns
    written: list[int] = []

    def read_then_write(session: Session, code: str, rules: Rules) -> case_columns.CaseColumns:
        columns = read(session, code, rules)
        assert runtime.redis.exists(redis_keys.rebuild_fence(code)), "the fence goes up before the read"
        written.append(runtime.cases.submit(draft(900, NOW - hours(1)), actor="窗口", now=NOW)[0].id)
        return columns

    monkeypatch.setattr(case_columns, "case_columns", read_then_write)
    with runtime.sessions() as session:
        report = cache_ops.rebuild(session, runtime.redis, county, runtime.rules)
    with runtime.sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Case).where(Case.county_code == county))
    assert len(written) == 1 and report.cases == stored - 1, "the rebuild read SQL before the case was written"
    assert not runtime.redis.exists(redis_keys.rebuild_fence(county)), "the rebuild's own write lowers its fence"
    wait_until(lambda: runtime.cases.owed() == 0, 30, message="the owed case re-applied after the rebuild")
    with runtime.sessions() as session:
        assert cache_ops.reconcile(session, runtime.redis, county, runtime.rules) == []


def test_a_failed_rebuild_lowers_its_fence(runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> NoReturn:
        raise RuntimeError("the read failed")

    monkeypatch.setattr(case_columns, "case_columns", broken)
    with runtime.sessions() as session, pytest.raises(RuntimeError):
        cache_ops.rebuild(session, runtime.redis, county, runtime.rules)
    assert not runtime.redis.exists(redis_keys.rebuild_fence(county))
    assert runtime.cases.submit(draft(1, NOW - hours(1)), actor="窗口", now=NOW)[0].id
    assert runtime.cases.owed() == 0, "with no rebuild under way, writes go straight to Redis"


def test_applying_is_refused_while_a_rebuild_is_under_way_and_changes_nothing(runtime: Runtime, county: str) -> None:
    """A write meanwhile is stored and owed; Redis stays as it was until the fence is down."""
    _history(runtime)
    before = _state(runtime, county)
    fence = aggregates.raise_fence(runtime.redis, county)
    case, _ = runtime.cases.submit(draft(901, NOW - hours(1)), actor="窗口", now=NOW)
    with runtime.sessions() as session:
        stored = contribution(cases.get(session, case.id), runtime.rules)  # type: ignore[arg-type]
    with pytest.raises(aggregates.RebuildUnderWay):
        aggregates.apply_case(runtime.redis, county, case.id, stored)
    assert runtime.cases.owed() == 1 and _state(runtime, county) == before
    aggregates.lower_fence(runtime.redis, county, fence)
    wait_until(lambda: runtime.cases.owed() == 0, 30, message="the owed case re-applied once the fence is down")
    with runtime.sessions() as session:
        assert cache_ops.reconcile(session, runtime.redis, county, runtime.rules) == []


def _reconciled(runtime: Runtime, county: str) -> list[object]:
    with runtime.sessions() as session:
        return list(cache_ops.reconcile(session, runtime.redis, county, runtime.rules))


def test_the_write_records_its_cases_in_the_outbox_and_settles_them_once_redis_took_them(
        runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The outbox row is written in the case's own transaction (so it survives a crash after the
    commit) and gone once the aggregates hold the case."""
    seen: list[int] = []

    def looking(client: object, code: str, items: object, **options: object) -> object:
        with runtime.sessions() as session:
            seen.append(outbox.owed_cases(session, code))
        return apply_and_publish(client, code, items, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(case_service, "apply_and_publish", looking)
    runtime.cases.submit(draft(1, NOW - hours(1)), actor="窗口", now=NOW)
    assert seen == [1], "committed with the case, before Redis is touched"
    assert runtime.cases.owed() == 0


def test_a_drain_applies_what_a_dead_writer_owed_once_and_settles_it(runtime: Runtime, county: str) -> None:
    """Rows left behind (as by a writer killed after its commit) are applied from the cases'
    current rows by any process's drain; a second drain finds nothing and changes nothing."""
    _history(runtime)
    runtime.cases.ensure_built()  # type: ignore[misc]
    with runtime.sessions() as session, session.begin():
        written = [cases.add(session, *new_case(draft(700 + n, NOW - hours(2)), runtime.cases.place(GRID_CODES[n]),
                                                actor="t", now=NOW, rules=runtime.rules)) for n in range(3)]
        outbox.owe(session, county, [case.id for case in written] * 2, NOW)  # twice: a case counts once
    assert runtime.cases.owed() == 3 and _reconciled(runtime, county) != []
    assert runtime.cases.drain() == 6
    assert runtime.cases.owed() == 0 and _reconciled(runtime, county) == []
    before = _state(runtime, county)
    assert runtime.cases.drain() == 0 and _state(runtime, county) == before


def test_an_import_that_redis_never_took_is_owed_in_the_outbox_and_drained(
        runtime: Runtime, county: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bulk import that gave up waiting for Redis used to leave the screens behind until someone
    ran ``cache rebuild``; its cases now wait in the outbox for any process's drain."""
    runtime.cases.ensure_built()  # type: ignore[misc]

    def refused(*_: object) -> NoReturn:
        raise redis.ConnectionError("Redis is restarting")

    with monkeypatch.context() as patched:
        patched.setattr(aggregates, "apply_prepared", refused)
        result = import_cases(runtime, _write_csv(tmp_path / "cases.csv", [_row("o-1"), _row("o-2")]), now=NOW,
                              redis_wait_seconds=0.2)
    assert result.aggregates_behind and runtime.cases.owed() == 2
    assert _reconciled(runtime, county) != []
    runtime.cases.drain()
    assert runtime.cases.owed() == 0 and _reconciled(runtime, county) == []
