"""Sign-in attempts in Redis: failures and lock-outs per (name, address) pair, and bursts of
refused attempts, counted instead of written to the audit log one by one.

Keys sit under our namespace beside the sessions (``<ns>:auth:signin:…``) and are named by the
SHA-256 of what they count, so a Redis dump lists neither user names nor addresses. Every change
is one Lua script, so concurrent attempts on several processes count exactly. Any
``redis.RedisError`` reaches the caller: sign-in answers 503 rather than guess.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import redis

from data_access import redis_keys


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def pair_key(name: str, ip: str) -> str:
    """Hash ``failures``, ``until`` (epoch seconds the pair is locked until) of one name from one address."""
    return f"{redis_keys.prefix()}:auth:signin:pair:{_digest(name, ip)}"


def burst_key(scope: str, who: str) -> str:
    """Hash ``count``, ``first``, ``last`` of one burst of refused attempts."""
    return f"{redis_keys.prefix()}:auth:signin:burst:{_digest(scope, who)}"


_FAIL = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local lock = tonumber(ARGV[failures + 2] or ARGV[#ARGV])
if lock > 0 then redis.call('HSET', KEYS[1], 'until', tonumber(ARGV[1]) + lock) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return {failures, lock}
"""
"""ARGV: now, keep seconds, then the lock seconds after failure 1, 2, … (the last repeats)."""

_REFUSE = """
local old = redis.call('HMGET', KEYS[1], 'count', 'first', 'last')
local closed = {'', '', ''}
if old[1] and (tonumber(ARGV[1]) - tonumber(old[3])) > tonumber(ARGV[2]) then
  closed = {old[1], old[2], old[3]}
  redis.call('DEL', KEYS[1])
end
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
if count == 1 then redis.call('HSET', KEYS[1], 'first', ARGV[1]) end
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {count, closed[1], closed[2], closed[3]}
"""
"""ARGV: now, the gap after which a refusal starts a new burst, keep seconds."""

_CLOSE = """
local old = redis.call('HMGET', KEYS[1], 'count', 'first', 'last')
if not old[1] then return {'', '', ''} end
redis.call('DEL', KEYS[1])
return {old[1], old[2], old[3]}
"""

KEEP_BURST = 86400
"""A burst nobody closes is forgotten after a day; its start (and any milestone) is in the audit log."""


@dataclass(frozen=True)
class Burst:
    """Refused attempts of one scope and caller: how many, first and last (epoch seconds)."""

    count: int
    first: float
    last: float


def _burst(values: list[bytes | str | int]) -> Burst | None:
    count, first, last = (v.decode() if isinstance(v, bytes) else str(v) for v in values)
    return Burst(int(count), float(first), float(last)) if count else None


def locked_for(client: redis.Redis, name: str, ip: str, *, now: float) -> int:
    """Whole seconds the pair stays locked (0: it may try)."""
    until = client.hget(pair_key(name, ip), "until")
    return max(0, math.ceil(float(until) - now)) if until is not None else 0


def record_failure(client: redis.Redis, name: str, ip: str, *, now: float, lock_seconds: Callable[[int], int],
                   forget: int, horizon: int = 64) -> tuple[int, int]:
    """Count one failed sign-in of the pair: (failures in a row, seconds it is now locked)."""
    locks = [lock_seconds(n) for n in range(1, horizon + 1)]
    failures, lock = client.eval(_FAIL, 1, pair_key(name, ip), now, forget, *locks)  # type: ignore[misc]
    return int(failures), int(lock)


def clear_failures(client: redis.Redis, name: str, ip: str) -> None:
    """A success: the pair starts again from no failures."""
    client.delete(pair_key(name, ip))


def count_refusal(client: redis.Redis, scope: str, who: str, *, now: float, gap: int) -> tuple[int, Burst | None]:
    """Count one refused attempt: (its number in the current burst, the earlier burst it closed).

    A refusal more than ``gap`` seconds after the last one starts a new burst."""
    count, *closed = client.eval(_REFUSE, 1, burst_key(scope, who), now, gap, KEEP_BURST)  # type: ignore[misc]
    return int(count), _burst(closed)


def close_burst(client: redis.Redis, scope: str, who: str) -> Burst | None:
    """An admitted attempt ends the caller's burst of refusals: the burst, or ``None`` if there was none."""
    return _burst(client.eval(_CLOSE, 1, burst_key(scope, who)))  # type: ignore[arg-type]
