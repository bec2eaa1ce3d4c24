"""The rules that say when two cases may be one matter (事项), and who is a repeat caller.

Read from the ``[matters]`` section of ``rules.toml`` (every key optional: the defaults below are
the shipped values). A county tunes them; ``bench/duplicate_bench.py`` measures what they give.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dashboard.domain.vocabulary import Category

DEFAULT_RELATED: dict[str, tuple[str, ...]] = {
    "land": ("demolition", "neighbour"),
    "demolition": ("land",),
    "neighbour": ("land", "property_mgmt", "environment"),
    "property_mgmt": ("neighbour",),
    "labour_wages": ("debt",),
    "debt": ("labour_wages", "consumer"),
    "consumer": ("debt",),
    "environment": ("neighbour",),
    "marriage_family": ("neighbour",),
    "traffic": ("medical",),
    "medical": ("traffic",),
}
"""Categories a reworded report of the same dispute may carry (a land quarrel between neighbours
comes in as ``land`` by the grid worker and as ``neighbour`` by the hotline). Symmetric once read."""


@dataclass(frozen=True)
class MatterRules:
    window_days: float = 7.0
    """A candidate was received within this many days of the arriving case (either side)."""
    recent_days: float = 30.0
    """Only open cases, or cases received within this many days of the arrival, are candidates."""
    distance_m: float = 500.0
    """Besides the same village, a case within this distance (both located) is near."""
    min_score: float = 0.6
    """A pair scoring below this is not suggested."""
    max_candidates: int = 5
    """At most this many suggestions per arriving case, best first."""
    repeat_caller_days: int = 90
    repeat_caller_cases: int = 3
    """The same person (keyed hash of phone or ID number) with this many cases within
    ``repeat_caller_days`` is a repeat caller; the newest case gets the ``repeat_petition`` fact."""
    related: Mapping[str, frozenset[str]] = field(default_factory=lambda: _symmetric(DEFAULT_RELATED))

    def relation(self, a: str, b: str) -> str | None:
        """``"same"``, ``"related"`` or ``None`` for two category codes."""
        if a == b:
            return "same"
        return "related" if b in self.related.get(a, frozenset()) else None


def _symmetric(pairs: Mapping[str, tuple[str, ...] | list[str]]) -> dict[str, frozenset[str]]:
    known = {c.value for c in Category}
    out: dict[str, set[str]] = {}
    for a, others in pairs.items():
        for b in others:
            if a not in known or b not in known:
                raise ValueError(f"matters.related: unknown category {a if a not in known else b!r}")
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).add(a)
    return {k: frozenset(v) for k, v in out.items()}


def matter_rules_from_mapping(data: Mapping[str, Any] | None) -> MatterRules:
    """Validate the ``[matters]`` section; an absent section gives the defaults."""
    data = dict(data or {})
    related = data.pop("related", None)
    known = {f for f in MatterRules.__dataclass_fields__ if f != "related"}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"matters: unknown setting(s) {sorted(unknown)}")
    defaults = MatterRules()
    values = {name: type(getattr(defaults, name))(value) for name, value in data.items()}
    rules = MatterRules(**values, related=_symmetric(related) if related is not None else defaults.related)
    if min(rules.window_days, rules.recent_days, rules.distance_m, rules.repeat_caller_days) <= 0:
        raise ValueError("matters: windows and distances must be positive")
    if not 0 < rules.min_score <= 1 or rules.max_candidates < 1 or rules.repeat_caller_cases < 2:
        raise ValueError("matters: min_score in (0, 1], max_candidates ≥ 1, repeat_caller_cases ≥ 2")
    return rules
