"""Rate limits on a moving window, kept in Redis by the ``limits`` library.

A limit of N requests per S seconds admits a request when fewer than N were admitted in the S
seconds before it, whenever it comes: unlike fixed windows, there is no boundary at which a
client gets 2 N requests through in a moment. The windows live in the runtime's Redis, under our
key namespace, so every process on every host counts against the same limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import redis
from limits import RateLimitItemPerSecond
from limits.storage import RedisClusterStorage, RedisStorage
from redis.cluster import RedisCluster
from limits.strategies import MovingWindowRateLimiter

from data_access import redis_keys
from data_access.redis_connection import storage_url

log = logging.getLogger(__name__)

Seconds = Callable[[], float]
"""A clock in seconds since the epoch (``time.time`` in production; tests pin it)."""


@dataclass(frozen=True)
class Limit:
    """At most ``requests`` in any ``seconds`` seconds."""

    requests: int
    seconds: int


@dataclass(frozen=True)
class Backoff:
    """Lock-out of one (name, address) pair after failed sign-ins: the first ``free`` failures cost
    nothing; failure ``free`` locks the pair for ``base`` seconds, and each further one doubles it, up
    to ``cap``. A success clears the count; so does ``forget`` seconds without a failure."""

    free: int = 5
    base: int = 30
    cap: int = 900
    forget: int = 86400

    def lock_seconds(self, failures: int) -> int:
        """Seconds the pair is locked after its ``failures``-th failure in a row (0: not locked)."""
        if failures < self.free:
            return 0
        return min(self.cap, self.base * 2 ** min(failures - self.free, 30))


def key_prefix() -> str:
    """Where the windows are kept: ``<our namespace>:auth:rate``, beside the sessions, so clearing
    a deployment's (or a test run's) keys clears its rate limits too."""
    return redis_keys.namespace_pattern().removesuffix("*") + "auth:rate"


class ClockedRedisStorage(RedisStorage):
    """``limits``' Redis storage on an existing client, reading "now" from ``clock``.

    ``RedisStorage`` stamps each request with ``time.time()`` in this process and hands the stamp
    to its Lua scripts (Redis's own clock is used only to expire a whole idle window). The two
    methods that read the time are the same calls with ``clock()`` instead, so tests can pin time
    and move it without sleeping.
    """

    def __init__(self, client: redis.Redis, *, clock: Seconds, prefix: str) -> None:
        super().__init__("redis://", connection_pool=client.connection_pool, key_prefix=prefix)
        self.clock = clock

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Add ``amount`` requests to the window of ``key`` if it has room for them."""
        return bool(self.lua_acquire_moving_window([self.prefixed_key(key)], [self.clock(), limit, expiry, amount]))

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(time of the oldest request still in the window, requests in the window)."""
        now = self.clock()
        window = self.lua_moving_window([self.prefixed_key(key)], [now - expiry, limit])
        return (float(window[0]), int(window[1])) if window else (now, 0)


class ClockedRedisClusterStorage(RedisClusterStorage):
    """The same on a Redis Cluster, which ``limits`` reaches from a ``redis+cluster://`` URL; each
    window is one key, so its scripts work on whichever shard holds it."""

    acquire_entry = ClockedRedisStorage.acquire_entry
    get_moving_window = ClockedRedisStorage.get_moving_window

    def __init__(self, url: str, *, clock: Seconds, prefix: str) -> None:
        super().__init__(url, key_prefix=prefix)
        self.clock = clock


class RateLimiter:
    """Moving-window limits per ``(scope, who)``; a request refused is not counted."""

    def __init__(self, client: redis.Redis | RedisCluster, clock: Seconds) -> None:
        self.clock = clock
        storage = (ClockedRedisClusterStorage(storage_url(client), clock=clock, prefix=key_prefix())
                   if isinstance(client, RedisCluster) else ClockedRedisStorage(client, clock=clock, prefix=key_prefix()))
        self.windows = MovingWindowRateLimiter(storage)

    def allow(self, scope: str, who: str, limit: Limit, *, strict: bool = False) -> tuple[bool, int]:
        """Count one request of ``who``: (allowed, whole seconds to wait before one is admitted again).

        When Redis cannot be reached the request is allowed (and a warning logged): a limit that
        cannot be counted must not take the API down with it. ``strict`` raises the
        ``redis.RedisError`` instead, for sign-in, which must not let guesses through uncounted."""
        item = RateLimitItemPerSecond(limit.requests, limit.seconds)
        try:
            if self.windows.hit(item, scope, who):
                return True, 0
            reset, _remaining = self.windows.get_window_stats(item, scope, who)
        except redis.RedisError:
            if strict:
                raise
            log.warning("rate limit not checked: Redis unreachable")
            return True, 0
        # The oldest request leaves the window just after ``reset``; at ``reset`` itself it still counts.
        return False, max(1, int(reset - self.clock()) + 1)
