"""Which areas a scope holds: the one rule behind every "outside your area" refusal.

A person, a wall or a source system may be held to an area (its *scope*): a county, a city (地级市)
or a province. Area codes follow the national division codes and nest by prefix:

========== ====== ================ =====================================
level      digits example          holds
========== ====== ================ =====================================
province   6      ``220000``       every code starting ``22``
city       6      ``220200``       every code starting ``2202``
county     6      ``220283``       every code starting ``220283``
township   9      ``220283100``    its villages (12 digits) and grids
village    12     ``220283100201`` its grids (the village code + a number)
grid       > 12   ``220283100201001``
========== ====== ================ =====================================

A six-digit code ending in ``0000`` is a province, one ending in ``00`` a city; a county-level
code never ends in ``00``. ``None`` as a scope means "no scope": an unscoped admin, the command
line, a scheduled job; it holds every area. A code that is not all digits is held by no scope
(it cannot name an area), so hostile input is simply outside.
"""

from __future__ import annotations

from enum import StrEnum


class ScopeLevel(StrEnum):
    province = "province"
    city = "city"
    county = "county"
    township = "township"
    village = "village"
    grid = "grid"


SCOPE_LEVELS = (ScopeLevel.province, ScopeLevel.city, ScopeLevel.county)
"""The levels a person, a wall or a source system may be held to."""


def level_of(code: str) -> ScopeLevel | None:
    """The level of an area code; ``None`` when it is not one (not all ASCII digits, or a length
    no level has)."""
    if not (code.isascii() and code.isdigit()):
        return None
    if len(code) == 6:
        if code.endswith("0000"):
            return ScopeLevel.province
        return ScopeLevel.city if code.endswith("00") else ScopeLevel.county
    if len(code) == 9:
        return ScopeLevel.township
    if len(code) == 12:
        return ScopeLevel.village
    return ScopeLevel.grid if len(code) > 12 else None


def _prefix(code: str) -> str | None:
    """The prefix every code inside ``code`` starts with; ``None`` when ``code`` is no area."""
    level = level_of(code)
    if level is None:
        return None
    return {ScopeLevel.province: code[:2], ScopeLevel.city: code[:4]}.get(level, code)


def contains(scope: str | None, code: str) -> bool:
    """Whether the area ``code`` (any level, down to a grid) lies inside ``scope``, itself included.

    ``contains(None, code)`` is true for every code: no scope holds everything. A scope that is no
    area code holds nothing, and a code that is no area code is inside no scope."""
    if scope is None:
        return True
    prefix, inner = _prefix(scope), level_of(code)
    return prefix is not None and inner is not None and code.startswith(prefix)


def is_scope(code: str) -> bool:
    """Whether ``code`` may be given as a scope: a county, a city or a province code."""
    return level_of(code) in SCOPE_LEVELS


def home_county(scope: str | None, deployment_county: str) -> str | None:
    """The county a scoped caller is shown when it names none.

    The deployment's own county when the scope holds it (and for no scope); else the scope itself
    when it is a county (a person of a neighbouring county sees their own); else ``None``: a city
    or province that does not hold the deployment's county has no county to fall back on, and the
    caller must be refused rather than shown the deployment's."""
    if contains(scope, deployment_county):
        return deployment_county
    return scope if scope is not None and level_of(scope) is ScopeLevel.county else None
