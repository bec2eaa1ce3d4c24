"""Every Redis key and channel name the product uses, built in one place."""

from __future__ import annotations

import os

PREFIX = os.environ.get("MEDIATION_REDIS_NAMESPACE", "mc") + ":v3"
"""Bump the version when the stored format changes: a new namespace starts empty and is rebuilt
from SQL. ``MEDIATION_REDIS_NAMESPACE`` lets several deployments (or test runs) share one Redis."""


def namespace_pattern() -> str:
    """Every key of this deployment (tests clear their own keys, never the whole database)."""
    return f"{PREFIX}:*"
RECORD_BUCKET = 4096
"""Cases per record string: 4096 × 12 bytes = 48 KB, so a WATCH rarely collides across writers."""


def day(county: str, day_key: str) -> str:
    """Packed big-endian int32 per area index × period figure (8 slots) for cases received on ``day_key``."""
    return f"{PREFIX}:{county}:day:{day_key}"


def day_pattern(county: str) -> str:
    return f"{PREFIX}:{county}:day:*"


def breakdown(county: str, day_key: str) -> str:
    """Packed int32 per area index × (category, source) slot; only county and township areas."""
    return f"{PREFIX}:{county}:bd:{day_key}"


def breakdown_pattern(county: str) -> str:
    return f"{PREFIX}:{county}:bd:*"


def open_counts(county: str) -> str:
    """Packed int32 per area index × open slot (open, red, each fact reason)."""
    return f"{PREFIX}:{county}:open"


def due(county: str, grid_index: int | str) -> str:
    """Sorted set of a grid's open cases scored by deadline (µs): overdue is one ``ZCOUNT``."""
    return f"{PREFIX}:{county}:due:{grid_index}"


def warn(county: str, grid_index: int | str) -> str:
    """Like ``due`` without cases awaiting assessment (they never warn "due soon")."""
    return f"{PREFIX}:{county}:warn:{grid_index}"


def due_pattern(county: str) -> str:
    return due(county, "*")


def warn_pattern(county: str) -> str:
    return warn(county, "*")


def grids(county: str) -> str:
    """Set of the area indexes that are grids (the keys of ``due``/``warn``)."""
    return f"{PREFIX}:{county}:grids"


def area_index(county: str) -> str:
    """Hash area code → its index in every packed array (assigned once, never reused)."""
    return f"{PREFIX}:{county}:areas"


def area_parent(county: str) -> str:
    """Packed int32 per area index: the parent's index, -1 for the county."""
    return f"{PREFIX}:{county}:parents"


def record(county: str, case_id: int) -> str:
    """Packed 12-byte records of the contribution last applied per case, ``RECORD_BUCKET`` per key."""
    return f"{PREFIX}:{county}:rec:{case_id // RECORD_BUCKET}"


def record_pattern(county: str) -> str:
    return f"{PREFIX}:{county}:rec:*"


def snapshot(county: str) -> str:
    """The last computed wall snapshot, shared by every process (tagged with format, version and minute).

    Binary since format 4, under a key of its own: a build of the JSON formats reads ``…:snapshot``
    and would fail on binary bytes; later formats are refused by their tag, never misread.
    """
    return f"{PREFIX}:{county}:snapshot:bin"


def meta(county: str) -> str:
    """Hash: version (bumped by every change), rebuilt_at, changed_at."""
    return f"{PREFIX}:{county}:meta"


def changes_channel(county: str) -> str:
    """Pub/sub channel announcing a new version."""
    return f"{PREFIX}:{county}:changes"


def rebuild_lock(county: str) -> str:
    return f"{PREFIX}:{county}:lock:rebuild"


def rebuild_fence(county: str) -> str:
    """Set of the tokens of rebuilds between their SQL read and their write: writes wait meanwhile."""
    return f"{PREFIX}:{county}:rebuilding"


def scheduler_lock(county: str) -> str:
    return f"{PREFIX}:{county}:lock:scheduler"


def auth_session(session_digest: str) -> str:
    """String: a signed-in session's JSON, under the SHA-256 of its id (the id itself is never stored)."""
    return f"{PREFIX}:auth:session:{session_digest}"


def rate_window(scope: str, who: str, window: int) -> str:
    """Counter of requests by ``who`` in fixed window number ``window`` of a rate limit ``scope``."""
    return f"{PREFIX}:auth:rate:{scope}:{who}:{window}"
