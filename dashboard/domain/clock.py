"""The one clock: code that needs "now" takes a ``Clock`` (usually ``Runtime.clock``) instead of
reading the system time itself, so tests can pin time and every part of a request sees one now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""A zero-argument callable returning an aware UTC datetime."""


def system_clock() -> datetime:
    """The wall-clock time in UTC."""
    return datetime.now(UTC)
