"""Every Redis key and channel name the product uses, built in one place.

Every key starts with ``<namespace>:<format>``. The namespace lets several deployments (or test
runs) share one Redis; it is given once by the runtime (``use_namespace``, from
``Settings.redis_namespace``) and nothing is read when this module is imported. A process that
builds a key before any namespace was given takes ``MEDIATION_REDIS_NAMESPACE`` from the
environment at that moment, else ``mc``.
"""

from __future__ import annotations

import os

FORMAT = "v3"
"""Bump when the stored format changes: a new prefix starts empty and is rebuilt from SQL."""
DEFAULT_NAMESPACE = "mc"
NAMESPACE_VARIABLE = "MEDIATION_REDIS_NAMESPACE"

_prefix: str | None = None


def use_namespace(namespace: str) -> None:
    """Build every later key under ``namespace``."""
    global _prefix
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
RECORD_BUCKET = 4096
"""Cases per record string: 4096 × 12 bytes = 48 KB, so a WATCH rarely collides across writers."""


def day(county: str, day_key: str) -> str:
    """Packed big-endian int32 per area index × period figure (8 slots) for cases received on ``day_key``."""
    return f"{prefix()}:{county}:day:{day_key}"


def day_pattern(county: str) -> str:
    return f"{prefix()}:{county}:day:*"


def breakdown(county: str, day_key: str) -> str:
    """Packed int32 per area index × (category, source) slot; only county and township areas."""
    return f"{prefix()}:{county}:bd:{day_key}"


def breakdown_pattern(county: str) -> str:
    return f"{prefix()}:{county}:bd:*"


def open_counts(county: str) -> str:
    """Packed int32 per area index × open slot (open, red, each fact reason)."""
    return f"{prefix()}:{county}:open"


def due(county: str, grid_index: int | str) -> str:
    """Sorted set of a grid's open cases scored by deadline (µs): overdue is one ``ZCOUNT``."""
    return f"{prefix()}:{county}:due:{grid_index}"


def warn(county: str, grid_index: int | str) -> str:
    """Like ``due`` without cases awaiting assessment (they never warn "due soon")."""
    return f"{prefix()}:{county}:warn:{grid_index}"


def due_pattern(county: str) -> str:
    return due(county, "*")


def warn_pattern(county: str) -> str:
    return warn(county, "*")


def grids(county: str) -> str:
    """Set of the area indexes that are grids (the keys of ``due``/``warn``)."""
    return f"{prefix()}:{county}:grids"


def area_index(county: str) -> str:
    """Hash area code → its index in every packed array (assigned once, never reused)."""
    return f"{prefix()}:{county}:areas"


def area_parent(county: str) -> str:
    """Packed int32 per area index: the parent's index, -1 for the county."""
    return f"{prefix()}:{county}:parents"


def record(county: str, case_id: int) -> str:
    """Packed 12-byte records of the contribution last applied per case, ``RECORD_BUCKET`` per key."""
    return f"{prefix()}:{county}:rec:{case_id // RECORD_BUCKET}"


def record_pattern(county: str) -> str:
    return f"{prefix()}:{county}:rec:*"


def snapshot(county: str) -> str:
    """The last computed wall snapshot, shared by every process: JSON tagged with format, version and
    minute (``wall_snapshot.encode``); a build that finds another format there recomputes."""
    return f"{prefix()}:{county}:snapshot"


def meta(county: str) -> str:
    """Hash: version (bumped by every change), rebuilt_at, changed_at."""
    return f"{prefix()}:{county}:meta"


def changes_channel(county: str) -> str:
    """Pub/sub channel announcing a new version."""
    return f"{prefix()}:{county}:changes"


def rebuild_lock(county: str) -> str:
    return f"{prefix()}:{county}:lock:rebuild"


def rebuild_fence(county: str) -> str:
    """Set of the tokens of rebuilds between their SQL read and their write: writes wait meanwhile."""
    return f"{prefix()}:{county}:rebuilding"


def scheduler_lock(county: str) -> str:
    return f"{prefix()}:{county}:lock:scheduler"


def auth_session(session_digest: str) -> str:
    """String: a signed-in session's JSON, under the SHA-256 of its id (the id itself is never stored)."""
    return f"{prefix()}:auth:session:{session_digest}"
