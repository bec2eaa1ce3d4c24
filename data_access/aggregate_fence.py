"""The rebuild fence: while a rebuild is between its SQL read and its write, no case is applied.

A rebuild replaces every aggregate with what its SQL read saw, so a case committed after that
read and applied before the rebuild's write would be wiped. The rebuild raises a fence first;
the apply functions watch it and refuse while it is up (:class:`RebuildUnderWay`, a Redis
error, so writers owe or retry the case); the rebuild lowers it in its own final write.
"""

from __future__ import annotations

import uuid

import redis

from data_access import redis_keys as keys

class RebuildUnderWay(redis.RedisError):
    """A rebuild is between its SQL read and its write (:func:`raise_fence`): a case applied now
    could be wiped by that write. Writers treat it as Redis being away: they owe the case, or
    retry, and apply it once the rebuild is done."""


def watch_unfenced(pipe: redis.client.Pipeline, county: str, *watched: str) -> None:
    """WATCH ``watched`` and the rebuild fence; refuses while the fence is up. Watching the fence
    too makes a rebuild that begins before the EXEC fail it, so the retry meets the fence."""
    fence = keys.rebuild_fence(county)
    pipe.watch(*watched, fence)
    if pipe.exists(fence):
        raise RebuildUnderWay("a rebuild of the aggregates is under way; the case is applied after it")


FENCE_SECONDS = 600
"""A fence outlives no rebuild: one whose process died stops holding writes back after this."""


def raise_fence(client: redis.Redis, county: str) -> str:
    """Mark a rebuild as under way, before it reads SQL; returns its token.

    A rebuild replaces every aggregate with what its SQL read saw, so a case committed after that
    read and applied before the rebuild's write would be wiped. The apply functions, which run
    after the writer's commit, therefore refuse while a fence is up (:class:`RebuildUnderWay`):
    either the commit came before the fence (and so before the read, which includes it), or the
    case waits for the rebuild to finish.
    """
    token = uuid.uuid4().hex
    with client.pipeline(transaction=True) as pipe:
        pipe.sadd(keys.rebuild_fence(county), token)
        pipe.expire(keys.rebuild_fence(county), FENCE_SECONDS)
        pipe.execute()
    return token


def lower_fence(client: redis.Redis, county: str, token: str) -> None:
    """For a rebuild that failed; a rebuild that succeeds lowers its fence in its own write."""
    client.srem(keys.rebuild_fence(county), token)
