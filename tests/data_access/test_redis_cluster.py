"""A province's counties on a real three-master Redis Cluster: the write path, the rebuild,
reconcile and the live hub, with counties whose hash tags live on different shards.

The cluster is started by ``.ci/redis-cluster`` (``.ci/run`` does it); the test fails, it does
not skip, when the cluster is down: the suite runs against real services.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException
from sqlalchemy import select

from dashboard.cases import cache_ops
from dashboard.cases.apply import apply_and_publish, contributions
from dashboard.domain.periods import Period, local_date
from dashboard.domain.vocabulary import Action
from dashboard.imports import onboarding
from dashboard.live.live_hub import LiveHub
from dashboard.runtime import Runtime
from dashboard.screens.wall_service import SnapshotCache
from dashboard.settings import Settings
from data_access import aggregates, figure_queries, redis_changes, redis_keys
from data_access.models import Base, Case
from data_access.redis_connection import connect, is_cluster_url, scan_county
from tests.factories import COUNTY, GRID_CODES, draft, hours, small_county_at
from tests.waiting import wait_until

CLUSTER_URL = os.environ.get("TEST_REDIS_CLUSTER_URL", "redis+cluster://127.0.0.1:7001")
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
CANDIDATES = ("990101", "990202", "990303", "990404", "990505", "990606", "990707", "990808")
"""County codes to place on the cluster: the first, and the first after it on another shard."""


_moved = small_county_at


def _grids(county: str) -> list[str]:
    return [county + grid[len(COUNTY):] for grid in GRID_CODES]


def _shard(client: RedisCluster, county: str) -> str:
    """The node that owns ``county``'s slot, found with CLUSTER KEYSLOT on the server."""
    slot = int(client.execute_command("CLUSTER KEYSLOT", redis_keys.meta(county)))
    assert slot == int(client.execute_command("CLUSTER KEYSLOT", f"{{{county}}}")), "only the tag is hashed"
    return str(client.nodes_manager.get_node_from_slot(slot).name)


def _clear(client: RedisCluster) -> None:
    for node in client.get_primaries():
        found = list(client.scan_iter(match=redis_keys.namespace_pattern(), count=1000, target_nodes=node))
        if found:
            client.delete(*found)


@pytest.fixture
def cluster_runtime(pg_schema: str, tmp_path) -> Iterator[Runtime]:  # type: ignore[no-untyped-def]
    """A runtime whose ``REDIS_URL`` is the cluster; emptied before and after the test."""
    assert is_cluster_url(CLUSTER_URL), CLUSTER_URL
    rt = Runtime(Settings(database_url=pg_schema, redis_url=CLUSTER_URL, var_dir=tmp_path), clock=lambda: NOW)
    try:
        info = rt.redis.cluster_info()  # type: ignore[union-attr]
    except (redis.RedisError, RedisClusterException, OSError) as error:
        pytest.fail(f"no Redis Cluster at {CLUSTER_URL} ({error}); start one with .ci/redis-cluster")
    assert isinstance(rt.redis, RedisCluster), "a redis+cluster:// URL gives a cluster client"
    assert info["cluster_state"] == "ok" and int(info["cluster_size"]) >= 3, info
    with rt.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    _clear(rt.redis)
    yield rt
    _clear(rt.redis)
    rt.close()


@pytest.fixture
def two_counties(cluster_runtime: Runtime) -> tuple[str, str]:
    """Two imported counties whose keys live on different shards of the cluster."""
    client = cluster_runtime.redis
    assert isinstance(client, RedisCluster)
    first = CANDIDATES[0]
    second = next((code for code in CANDIDATES[1:] if _shard(client, code) != _shard(client, first)), None)
    assert second is not None, "some candidate county must hash to another shard"
    for n, code in enumerate((first, second)):
        with cluster_runtime.sessions() as session, session.begin():
            onboarding.save_county(session, _moved(code, float(n)), name=f"县{code}",
                                   now=datetime(2026, 1, 1, tzinfo=UTC),
                                   outline_geojson='{"type":"Polygon","coordinates":[[[127,44],[127.8,44],'
                                                   '[127.8,44.2],[127,44.2],[127,44]]]}')
    return first, second


def _history(rt: Runtime, county: str, count: int) -> None:
    """Open, closed, overdue and escalated cases of one county through its write path."""
    cases = rt.case_service(county)
    grids = _grids(county)
    for n in range(count):
        received = NOW - timedelta(days=20) + timedelta(hours=9 * n)
        case, created = cases.submit(draft(n, received, grid_code=grids[n % len(grids)],
                                           external_ref=f"{county}-{n}"), actor="窗口", now=NOW)
        assert created
        if n % 3 == 1:
            for step, action in enumerate((Action.assess, Action.dispatch, Action.mediate, Action.resolve), start=1):
                cases.act(case.id, action, actor="调解员", at=received + hours(step))
        elif n % 5 == 0:
            cases.act(case.id, Action.assess, actor="研判员", at=received + hours(1))


def _same_as_sql(rt: Runtime, county: str) -> None:
    snapshot = SnapshotCache(rt).get(county, NOW)
    month = Period.trailing(local_date(NOW), 30)
    with rt.sessions() as session:
        assert snapshot.figures.last_30_days == figure_queries.period_counts(session, county_code=county,
                                                                             start=month.start, end=month.end)
        assert snapshot.figures.now == figure_queries.instant_counts(session, county_code=county, now=NOW)


def test_counties_on_different_shards_write_rebuild_and_reconcile_exactly(cluster_runtime: Runtime,
                                                                          two_counties: tuple[str, str]) -> None:
    rt = cluster_runtime
    client = rt.redis
    assert isinstance(client, RedisCluster)
    shards = {county: _shard(client, county) for county in two_counties}
    assert len(set(shards.values())) == 2, shards
    for n, county in enumerate(two_counties):
        _history(rt, county, 30 + 7 * n)

    for county in two_counties:
        # Every key of the county is in its slot, on its shard, and nowhere else.
        node = client.get_node_from_key(redis_keys.meta(county))
        own = scan_county(client, redis_keys.meta(county), redis_keys.county_pattern(county))
        everywhere = list(client.scan_iter(match=redis_keys.county_pattern(county), count=1000))
        assert own and sorted(own) == sorted(everywhere), "a county's keys all live on one shard"
        assert {client.keyslot(key) for key in own} == {client.keyslot(redis_keys.meta(county))}
        assert node.name == shards[county]
        _same_as_sql(rt, county)
        with rt.sessions() as session:
            assert cache_ops.reconcile(session, client, county, rt.rules) == []

    first, second = two_counties
    before = aggregates.version(client, second)
    with rt.sessions() as session:
        report = cache_ops.rebuild(session, rt.redis_admin, first, rt.rules)
    assert report.cases == 30 and report.open_cases > 0
    assert aggregates.version(client, second) == before, "a county's rebuild leaves the others alone"
    for county in two_counties:
        _same_as_sql(rt, county)
        with rt.sessions() as session:
            assert cache_ops.reconcile(session, client, county, rt.rules) == []

    # The bulk path (an import): the second county's keys emptied, then every case applied in one
    # MULTI/EXEC on its shard; applied again, the records make it count once.
    own = scan_county(client, redis_keys.meta(second), redis_keys.county_pattern(second))
    client.delete(*own)
    with rt.sessions() as session:
        stored = contributions(session.scalars(select(Case).where(Case.county_code == second)).all(), rt.rules)
    assert len(stored) == 37
    for _ in range(2):
        assert apply_and_publish(client, second, stored, fresh=True) is not None
        with rt.sessions() as session:
            assert cache_ops.reconcile(session, client, second, rt.rules) == []

    # A write after the rebuild goes through WATCH/MULTI on the rebuilt county's shard.
    rt.case_service(first).submit(draft(500, NOW - hours(2), grid_code=_grids(first)[3], external_ref="after"),
                                  actor="窗口", now=NOW)
    with rt.sessions() as session:
        assert cache_ops.reconcile(session, client, first, rt.rules) == []
    _same_as_sql(rt, first)
    today = Period.trailing(local_date(NOW), 1)
    assert SnapshotCache(rt).get(first, NOW).figures.today.received >= 1
    with rt.sessions() as session:
        assert figure_queries.period_counts(session, county_code=first, start=today.start, end=today.end).received >= 1


def test_a_case_in_each_county_reaches_the_live_hub_for_its_county(cluster_runtime: Runtime,
                                                                    two_counties: tuple[str, str]) -> None:
    rt = cluster_runtime
    for county in two_counties:
        _history(rt, county, 6)
    hub = LiveHub(rt, SnapshotCache(rt), build="cluster", tick_seconds=3600)  # only a message refreshes

    def open_count(kpis: dict[str, str]) -> int:
        return int(kpis["open"].replace(",", ""))

    refreshed: list[bool] = []
    refresh = hub.refresh

    async def counted_refresh() -> bool:
        ok = await refresh()
        refreshed.append(ok)
        return ok

    hub.refresh = counted_refresh  # type: ignore[method-assign]

    async def run() -> None:
        screens = {county: (county, county, "30d", "zh") for county in two_counties}
        watched = {county: await hub.watch(key) for county, key in screens.items()}
        opened = {county: open_count(w.latest["kpis"]) for county, w in watched.items()}
        await hub.start()
        try:
            # The hub subscribes, then refreshes once to catch up; wait for it to listen on both shards.
            client = rt.redis
            assert isinstance(client, RedisCluster)

            async def listening(county: str) -> bool:
                node = client.get_node_from_key(redis_keys.changes_channel(county))
                found = await asyncio.to_thread(client.pubsub_shardnumsub, redis_keys.changes_channel(county),
                                                target_nodes=node)
                return any(int(subscribers) >= 1 for _, subscribers in found)

            for county in two_counties:
                deadline = asyncio.get_running_loop().time() + 15
                while not await listening(county):
                    assert asyncio.get_running_loop().time() < deadline, f"the hub never subscribed to {county}"
                    await asyncio.sleep(0.05)
            # The catch-up refresh after subscribing is done: from here only a message refreshes.
            deadline = asyncio.get_running_loop().time() + 15
            while not refreshed or hub._dirty.is_set():
                assert asyncio.get_running_loop().time() < deadline, "the hub never caught up after subscribing"
                await asyncio.sleep(0.05)
            for n, county in enumerate(two_counties):
                grid = _grids(county)[n]
                await asyncio.to_thread(rt.case_service(county).submit,
                                        draft(900 + n, NOW - hours(1), grid_code=grid, external_ref=f"live-{county}"),
                                        actor="窗口", now=NOW)
                deadline = asyncio.get_running_loop().time() + 15
                while open_count(hub.current(screens[county]).latest["kpis"]) != opened[county] + 1:
                    assert asyncio.get_running_loop().time() < deadline, f"the hub never heard of {county}'s case"
                    await asyncio.sleep(0.05)
            for county in two_counties:
                assert open_count(hub.current(screens[county]).latest["kpis"]) == opened[county] + 1, \
                    "each county's screen counts its own case, once"
        finally:
            await hub.stop()

    asyncio.run(run())


def test_a_change_is_published_on_the_countys_shard_only(cluster_runtime: Runtime,
                                                         two_counties: tuple[str, str]) -> None:
    """SPUBLISH stays on the shard that owns the county's slot; a subscriber there hears it."""
    client = cluster_runtime.redis
    assert isinstance(client, RedisCluster)
    county = two_counties[1]
    channel = redis_keys.changes_channel(county)
    node = client.get_node_from_key(channel)
    with redis.Redis(host=node.host, port=node.port) as direct, direct.pubsub() as pubsub:
        pubsub.ssubscribe(channel)
        wait_until(lambda: pubsub.get_sharded_message(timeout=0.1), 5, message="the ssubscribe confirmation")
        assert redis_changes.publish_change(client, county, 42) == 1
        message = wait_until(lambda: pubsub.get_sharded_message(timeout=0.1), 5, message="the change")
        assert message["type"] == "smessage" and message["data"] == b"42"


def test_cluster_urls_name_every_node_and_credentials() -> None:
    from data_access.redis_connection import cluster_nodes

    assert cluster_nodes("redis+cluster://u:p%40ss@10.0.0.1:7001,10.0.0.2") == (
        [("10.0.0.1", 7001), ("10.0.0.2", 6379)], {"username": "u", "password": "p@ss"})
    assert cluster_nodes("rediss+cluster://:secret@h:7000")[1] == {"password": "secret", "ssl": True}
    assert not is_cluster_url("redis://127.0.0.1:6379/15") and is_cluster_url("redis+cluster://h:1")
    with pytest.raises(ValueError):
        cluster_nodes("redis+cluster://")
    client = connect(CLUSTER_URL)
    try:
        assert isinstance(client, RedisCluster)
    finally:
        client.close()


def test_sessions_sign_in_counters_rate_limits_and_locks_work_on_the_cluster(cluster_runtime: Runtime) -> None:
    """What the product keeps in Redis besides the aggregates: keys of no county, spread over the shards."""
    from dashboard.access.rate_limits import ClockedRedisClusterStorage, Limit, RateLimiter
    from data_access import sessions_store, sign_in_attempts

    client = cluster_runtime.redis
    assert isinstance(client, RedisCluster)
    session_id = sessions_store.create(client, {"user": "甲", "role": "leader"}, ttl_seconds=60)
    assert (sessions_store.load(client, session_id) or {}).get("user") == "甲"
    sessions_store.delete(client, session_id)
    assert sessions_store.load(client, session_id) is None

    failures = [sign_in_attempts.record_failure(client, "甲", "10.0.0.9", now=1000.0, lock_seconds=lambda n: 30 * (n >= 2),
                                                forget=600)[0] for _ in range(2)]
    assert failures == [1, 2] and sign_in_attempts.locked_for(client, "甲", "10.0.0.9", now=1000.0) == 30

    now = [2_000_000_000.0]
    limiter = RateLimiter(client, lambda: now[0])
    assert isinstance(limiter.windows.storage, ClockedRedisClusterStorage)
    spread = {client.keyslot(f"{redis_keys.prefix()}:auth:rate:{who}") for who in ("a", "b", "c", "d")}
    assert len(spread) > 1, "keys of no county carry no tag and spread over the slots"
    for who in ("ip:a", "ip:b", "ip:c"):
        assert [limiter.allow("api", who, Limit(2, 60))[0] for _ in range(3)] == [True, True, False]
    now[0] += 61
    assert limiter.allow("api", "ip:a", Limit(2, 60)) == (True, 0), "the window moved on the pinned clock"

    county = CANDIDATES[0]
    lock = client.lock(redis_keys.rebuild_lock(county), timeout=30, blocking_timeout=0)
    assert lock.acquire()
    try:
        assert not client.lock(redis_keys.rebuild_lock(county), timeout=30, blocking_timeout=0).acquire()
    finally:
        lock.release()
