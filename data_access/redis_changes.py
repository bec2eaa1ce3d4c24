"""The change channel of each county: publishing a new aggregate version, and following every county's.

On a single server a change goes out with ``PUBLISH`` and a process follows every county with one
pattern subscription (``PSUBSCRIBE``), as before Redis Cluster support. On a Redis Cluster a
classic ``PUBLISH`` is copied to every node of the cluster; a county's change goes out instead
with sharded pub/sub (``SPUBLISH``, Redis 7), which stays on the shard that owns the channel's
slot — the county's hash tag, so the shard that holds the county's aggregates. Sharded pub/sub
has no patterns: a follower subscribes (``SSUBSCRIBE``) to each county's channel on the node that
owns it, and subscribes again when the set of counties or the slot map changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode as AsyncClusterNode
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import RedisCluster

from data_access import redis_keys as keys
from data_access.redis_connection import cluster_nodes, is_cluster_url

log = logging.getLogger(__name__)

RECHECK_SECONDS = 30.0
"""How often a cluster follower asks again which counties to follow (a county imported meanwhile)."""


def publish_change(client: redis.Redis | RedisCluster, county: str, version: int) -> int:
    """Announce ``county``'s new aggregate version to every process; the number of receivers."""
    channel = keys.changes_channel(county)
    if isinstance(client, RedisCluster):
        return int(client.spublish(channel, str(version)))
    return int(client.publish(channel, str(version)))


class SubscriptionsMoved(RuntimeError):
    """The cluster took a followed channel away (its slot moved, or the counties changed): subscribe anew."""


async def follow_changes(url: str, counties: Callable[[], Awaitable[Collection[str]]],
                         on_change: Callable[[], None], *, recheck_seconds: float = RECHECK_SECONDS) -> None:
    """Call ``on_change`` for every change published on any followed county's channel, and once
    after each (re)subscription, since changes made while away were missed. Runs until the
    connection fails (the caller reconnects); on a cluster it also returns when the counties from
    ``counties()`` change, so the caller subscribes anew.

    ``counties`` is only asked on a cluster: a single server's pattern subscription covers every county.
    """
    if is_cluster_url(url):
        await _follow_sharded(url, counties, on_change, recheck_seconds)
    else:
        await _follow_pattern(url, on_change)


async def _follow_pattern(url: str, on_change: Callable[[], None]) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        async with client.pubsub() as pubsub:
            await pubsub.psubscribe(keys.changes_pattern())
            on_change()
            async for message in pubsub.listen():
                if message.get("type") == "pmessage":
                    on_change()
    finally:
        await client.aclose()


async def _follow_sharded(url: str, counties: Callable[[], Awaitable[Collection[str]]],
                          on_change: Callable[[], None], recheck_seconds: float) -> None:
    """One connection per node that owns a followed channel, each ``SSUBSCRIBE``d to its channels."""
    nodes, options = cluster_nodes(url)
    followed = frozenset(await counties())
    cluster = AsyncRedisCluster(startup_nodes=[AsyncClusterNode(host, port) for host, port in nodes], **options)
    clients: list[aioredis.Redis] = []
    try:
        await cluster.initialize()
        by_node: dict[tuple[str, int], list[str]] = {}
        for county in sorted(followed):
            channel = keys.changes_channel(county)
            node = cluster.get_node_from_key(channel)
            by_node.setdefault((node.host, node.port), []).append(channel)
        listeners: list[asyncio.Task[None]] = []
        for (host, port), channels in by_node.items():
            client = aioredis.Redis(host=host, port=port, **options)
            clients.append(client)
            pubsub = client.pubsub()
            await pubsub.ssubscribe(*channels)
            listeners.append(asyncio.create_task(_listen_node(pubsub, on_change)))
        listeners.append(asyncio.create_task(_recheck(followed, counties, recheck_seconds)))
        on_change()
        try:
            done, _ = await asyncio.wait(listeners, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, SubscriptionsMoved):
                raise error
    finally:
        for client in clients:
            await client.aclose()
        await cluster.aclose()


async def _listen_node(pubsub: aioredis.client.PubSub, on_change: Callable[[], None]) -> None:
    try:
        async for message in pubsub.listen():
            kind = message.get("type")
            if kind == "smessage":
                on_change()
            elif kind == "sunsubscribe":  # the server dropped a channel whose slot moved
                raise SubscriptionsMoved(str(message.get("channel")))
        raise ConnectionError("the sharded subscription ended")
    finally:
        await pubsub.aclose()


async def _recheck(followed: frozenset[str], counties: Callable[[], Awaitable[Collection[str]]],
                   seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            now = frozenset(await counties())
        except Exception:  # noqa: BLE001 - the database away: keep following what we follow
            log.warning("could not list the counties to follow; keeping the current ones", exc_info=True)
            continue
        if now != followed:
            raise SubscriptionsMoved("the counties to follow changed")
