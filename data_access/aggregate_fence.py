"""The rebuild fence: while a rebuild is between its SQL read and its write, no case is applied.

A rebuild replaces every aggregate with what its SQL read saw, so a case committed after that
read and applied before the rebuild's write would be wiped. The rebuild raises a fence first;
the apply functions watch it and refuse while it is up (:class:`RebuildUnderWay`, a Redis
error, so writers owe or retry the case); the rebuild lowers it in its own final write.
The fence is a lease: it lapses unless the rebuild keeps renewing it, so a rebuild that died
holds writers back for seconds, not for as long as the longest rebuild could take.
"""

from __future__ import annotations

import logging
import threading
import uuid

import redis

from data_access import redis_keys as keys

log = logging.getLogger(__name__)


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


LEASE_SECONDS = 15.0
"""How long a fence stands unless renewed. A running rebuild renews it every third of this
(:class:`FenceLease`); one whose process died stops holding writers back within this long."""
FENCE_SECONDS = LEASE_SECONDS
"""The older name of :data:`LEASE_SECONDS`."""

_RENEW = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
"""Extend the fence only while this rebuild's token is in it: a rebuild that wrote (and so
lowered its token) must not keep up a fence of another that died."""


def raise_fence(client: redis.Redis, county: str, *, seconds: float = LEASE_SECONDS) -> str:
    """Mark a rebuild as under way, before it reads SQL; returns its token. The fence lapses after
    ``seconds`` unless renewed (:func:`renew_fence`, or hold it with :class:`FenceLease`).

    A rebuild replaces every aggregate with what its SQL read saw, so a case committed after that
    read and applied before the rebuild's write would be wiped. The apply functions, which run
    after the writer's commit, therefore refuse while a fence is up (:class:`RebuildUnderWay`):
    either the commit came before the fence (and so before the read, which includes it), or the
    case waits for the rebuild to finish.
    """
    token = uuid.uuid4().hex
    with client.pipeline(transaction=True) as pipe:
        pipe.sadd(keys.rebuild_fence(county), token)
        pipe.pexpire(keys.rebuild_fence(county), int(seconds * 1000))
        pipe.execute()
    return token


def renew_fence(client: redis.Redis, county: str, token: str, *, seconds: float = LEASE_SECONDS) -> bool:
    """Keep the fence up another ``seconds`` if ``token`` still holds it; whether it did."""
    return bool(client.eval(_RENEW, 1, keys.rebuild_fence(county), token, int(seconds * 1000)))


def lower_fence(client: redis.Redis, county: str, token: str) -> None:
    """For a rebuild that failed; a rebuild that succeeds lowers its fence in its own write."""
    client.srem(keys.rebuild_fence(county), token)


class FenceLease:
    """A raised fence that a daemon thread renews every third of its lease until :meth:`end`.

    Only a live process renews, so a rebuild killed in the middle (SIGKILL, the host lost) holds
    writers back for at most ``seconds``; they then apply their owed cases, and the next rebuild
    or apply brings Redis level. A renewal that fails (Redis away) is retried at the next beat.
    """

    def __init__(self, client: redis.Redis, county: str, *, seconds: float = LEASE_SECONDS) -> None:
        self.client = client
        self.county = county
        self.seconds = seconds
        self.token = raise_fence(client, county, seconds=seconds)
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="rebuild-fence-lease", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._ended.wait(self.seconds / 3):
            try:
                if not renew_fence(self.client, self.county, self.token, seconds=self.seconds):
                    return  # lowered (the rebuild's write) or lapsed: nothing left to hold
            except redis.RedisError:
                log.warning("could not renew the rebuild fence; retrying", exc_info=True)

    def end(self, *, lower: bool = False) -> None:
        """Stop renewing; with ``lower`` also take the fence down (a rebuild that failed)."""
        self._ended.set()
        self._thread.join(timeout=self.seconds)
        if lower:
            lower_fence(self.client, self.county, self.token)
