"""Every Redis key and channel name the product uses, built in one place.

Every key starts with ``<namespace>:<format>``. Every key of one county then carries the county
code as a Redis Cluster hash tag, ``<namespace>:<format>:{<county>}:...`` (:func:`county_key`):
on a cluster only the tag is hashed, so all of a county's aggregates, locks and its change
channel live in one slot, on one shard, and a county's WATCH/MULTI transactions and Lua
scripts (which must touch one slot) work there as on a single server. Counties spread over the
shards by their codes. Keys of no county (sign-in sessions, rate limits) carry no tag. The namespace lets several deployments (or test
runs) share one Redis; it is given once by the runtime (``use_namespace``, from
``Settings.redis_namespace``) and nothing is read when this module is imported. A process that
builds a key before any namespace was given takes ``MEDIATION_REDIS_NAMESPACE`` from the
environment at that moment, else ``mc``.
"""

from __future__ import annotations

import os

FORMAT = "v4"
"""Bump when the stored format changes: a new prefix starts empty and is rebuilt from SQL."""
DEFAULT_NAMESPACE = "mc"
NAMESPACE_VARIABLE = "MEDIATION_REDIS_NAMESPACE"

_prefix: str | None = None


def use_namespace(namespace: str) -> None:
    """Build every later key under ``namespace``."""
    global _prefix
    if "{" in namespace or "}" in namespace:
        raise ValueError(f"a Redis namespace may not hold braces (they would become the hash tag): {namespace!r}")
    _prefix = f"{namespace}:{FORMAT}"


def prefix() -> str:
    """``<namespace>:<format>``, the start of every key of this deployment."""
    if _prefix is None:
        use_namespace(os.environ.get(NAMESPACE_VARIABLE) or DEFAULT_NAMESPACE)
    assert _prefix is not None
    return _prefix


def namespace_pattern() -> str:
    """Every key of this deployment (tests clear their own keys, never the whole database)."""
    return f"{prefix()}:*"


def hash_tag(county: str) -> str:
    """The part of a county's keys a Redis Cluster hashes: the county code itself."""
    if not county or "{" in county or "}" in county:
        raise ValueError(f"not a county code for a hash tag: {county!r}")
    return county


def county_key(county: str, suffix: str) -> str:
    """``<prefix>:{<county>}:<suffix>``: a key of one county, in that county's slot. Every county key
    of the product is built here (the named functions below, and locks or queues of other modules)."""
    return f"{prefix()}:{{{hash_tag(county)}}}:{suffix}"


def county_pattern(county: str) -> str:
    """Every key of one county (braces are literal in a SCAN/KEYS pattern)."""
    return county_key(county, "*")


def changes_pattern() -> str:
    """Every county's change channel, for a pattern subscription on a single server."""
    return f"{prefix()}:{{*}}:changes"
RECORD_BUCKET = 4096
"""Cases per record string: 4096 × 12 bytes = 48 KB, so a WATCH rarely collides across writers."""


def day(county: str, day_key: str) -> str:
    """Packed big-endian int32 per area index × period figure (8 slots) for cases received on ``day_key``."""
    return county_key(county, f"day:{day_key}")


def day_pattern(county: str) -> str:
    return county_key(county, "day:*")


def breakdown(county: str, day_key: str) -> str:
    """Packed int32 per area index × (category, source) slot; only county and township areas."""
    return county_key(county, f"bd:{day_key}")


def breakdown_pattern(county: str) -> str:
    return county_key(county, "bd:*")


def open_counts(county: str) -> str:
    """Packed int32 per area index × open slot (open, red, each fact reason)."""
    return county_key(county, "open")


def due(county: str, grid_index: int | str) -> str:
    """Sorted set of a grid's open cases scored by deadline (µs): overdue is one ``ZCOUNT``."""
    return county_key(county, f"due:{grid_index}")


def warn(county: str, grid_index: int | str) -> str:
    """Like ``due`` without cases awaiting assessment (they never warn "due soon")."""
    return county_key(county, f"warn:{grid_index}")


def due_pattern(county: str) -> str:
    return due(county, "*")


def warn_pattern(county: str) -> str:
    return warn(county, "*")


def grids(county: str) -> str:
    """Set of the area indexes that are grids (the keys of ``due``/``warn``)."""
    return county_key(county, "grids")


def area_index(county: str) -> str:
    """Hash area code → its index in every packed array (assigned once, never reused)."""
    return county_key(county, "areas")


def area_parent(county: str) -> str:
    """Packed int32 per area index: the parent's index, -1 for the county."""
    return county_key(county, "parents")


def record(county: str, case_id: int) -> str:
    """Packed 12-byte records of the contribution last applied per case, ``RECORD_BUCKET`` per key."""
    return county_key(county, f"rec:{case_id // RECORD_BUCKET}")


def record_pattern(county: str) -> str:
    return county_key(county, "rec:*")


def snapshot(county: str) -> str:
    """The last computed wall snapshot, shared by every process: JSON tagged with format, version and
    minute (``wall_snapshot.encode``); a build that finds another format there recomputes."""
    return county_key(county, "snapshot")


def meta(county: str) -> str:
    """Hash: version (bumped by every change), rebuilt_at, changed_at."""
    return county_key(county, "meta")


def changes_channel(county: str) -> str:
    """Pub/sub channel announcing a new version."""
    return county_key(county, "changes")


def rebuild_lock(county: str) -> str:
    return county_key(county, "lock:rebuild")


def rebuild_fence(county: str) -> str:
    """Set of the tokens of rebuilds between their SQL read and their write: writes wait meanwhile."""
    return county_key(county, "rebuilding")


def scheduler_lock(county: str) -> str:
    return county_key(county, "lock:scheduler")


def auth_session(session_digest: str) -> str:
    """String: a signed-in session's JSON, under the SHA-256 of its id (the id itself is never stored)."""
    return f"{prefix()}:auth:session:{session_digest}"
