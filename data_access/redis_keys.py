"""Every Redis key and channel name the product uses, built in one place."""

from __future__ import annotations

import os

PREFIX = os.environ.get("MEDIATION_REDIS_NAMESPACE", "mc") + ":v2"
"""Bump the version when the stored format changes: a new namespace starts empty and is rebuilt
from SQL. ``MEDIATION_REDIS_NAMESPACE`` lets several deployments (or test runs) share one Redis."""


def namespace_pattern() -> str:
    """Every key of this deployment (tests clear their own keys, never the whole database)."""
    return f"{PREFIX}:*"
CONTRIBUTION_BUCKET = 512
"""Cases per contribution hash: small hashes stay in Redis's compact listpack encoding."""


def day(county: str, day_key: str) -> str:
    """Hash ``"{area}:{figure}"`` → count for cases received on ``day_key`` (YYYYMMDD)."""
    return f"{PREFIX}:{county}:day:{day_key}"


def day_pattern(county: str) -> str:
    return f"{PREFIX}:{county}:day:*"


def open_cases(county: str) -> str:
    """Hash case id → open entry (areas, deadline, fact reasons)."""
    return f"{PREFIX}:{county}:open"


def contribution(county: str, case_id: int) -> str:
    """Hash case id → the contribution last applied for that case."""
    return f"{PREFIX}:{county}:contrib:{case_id // CONTRIBUTION_BUCKET}"


def contribution_pattern(county: str) -> str:
    return f"{PREFIX}:{county}:contrib:*"


def meta(county: str) -> str:
    """Hash: version (bumped by every change), rebuilt_at, changed_at."""
    return f"{PREFIX}:{county}:meta"


def changes_channel(county: str) -> str:
    """Pub/sub channel announcing a new version."""
    return f"{PREFIX}:{county}:changes"


def rebuild_lock(county: str) -> str:
    return f"{PREFIX}:{county}:lock:rebuild"


def scheduler_lock(county: str) -> str:
    return f"{PREFIX}:{county}:lock:scheduler"
