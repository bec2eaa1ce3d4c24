"""Whether the caller of the current request may see an area: the check every service makes
before it reads or changes anything of a county, a township, a village, a grid or a case.

The gate (``security.AccessMiddleware``) already binds every screen address a held principal
sends to its area (``county_binding``); this is the same rule for what is not an address: a case
id, an area code in a route, the county a console serves. Code that runs for nobody (the command
line, a scheduled job) is held to no area.
"""

from __future__ import annotations

from dashboard.access.auth import current_user
from dashboard.domain.area_scope import contains


def caller_area() -> str | None:
    """The area the current caller (a person, a wall or a source system) is held to; ``None``:
    every area (no caller, or an unscoped one)."""
    user = current_user()
    return user.area if user is not None else None


def caller_sees(code: str) -> bool:
    """Whether the area ``code`` (a county, township, village or grid code) lies inside the caller's area."""
    return contains(caller_area(), code)

