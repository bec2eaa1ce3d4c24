"""Which served counties a command acts on: ``--county CODE`` (a county, or a city or province:
its served counties), else every county the deployment serves."""

from __future__ import annotations

from dashboard.cli.context import fail
from dashboard.domain.area_scope import contains, is_scope
from dashboard.runtime import NoCountyError, Runtime

COUNTY_HELP = "a served county (or a city or province: its served counties); default: every served county"


def chosen_counties(rt: Runtime, county: str | None) -> list[str]:
    """The served counties named by ``county`` (all of them when ``None``), in code order.

    Raises ``NoCountyError`` when no county is imported (the operator's one-line error); ends the
    command (exit 2) when ``county`` names no served county."""
    served = rt.served_counties()
    if not served:
        raise NoCountyError("no county in the database; run `python -m dashboard county import`")
    if county is None:
        return served
    code = county.strip()
    chosen = [c for c in served if contains(code, c)] if is_scope(code) else []
    if not chosen:
        shown = ", ".join(served[:10]) + (" …" if len(served) > 10 else "")
        fail(f"--county {county!r} names no county served here (served: {shown})")
    return chosen
