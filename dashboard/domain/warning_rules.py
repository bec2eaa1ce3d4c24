"""The early-warning settings (``[warnings]`` in ``rules.toml``; DESIGN.md "Early warning").

Kept apart from ``rules.py`` so the model and its tests can build them alone; ``rules.py`` reads
the section and holds the result as ``Rules.warnings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WarningRules:
    windows: tuple[int, ...] = (1, 3, 7)
    """Days counted back from today (today included, so far): 近1日, 近3日, 近7日."""
    baseline_weeks: int = 8
    """Whole weeks of history, ending before the longest window, that give an area its level."""
    min_count: int = 5
    """No warning below this many cases in the window, however improbable: small numbers stay quiet."""
    false_warnings_per_week: float = 0.5
    """The expected number of warnings per week per county that the model itself would raise with
    no outbreak at all; the per-test level is set from it at every run (see ``warning_model``)."""
    max_p: float = 0.001
    """Never warn on a p-value above this, whatever the budget allows."""
    replaces_spike: bool = True
    """Early warnings replace DESIGN.md's "rises one level on 3σ over its 28-day baseline": an area's
    level then comes from its open cases alone, and an improbable count shows as a warning (panel,
    dashed outline, console), not as a colour. ``false`` keeps the 3σ rise as well
    (docs/design-decisions.md; ``bench/warning_bench.py`` measures both)."""
    interval_minutes: float = 10.0
    """How often the warnings job runs (one process per county, under a Redis lock)."""


def warning_rules_from_mapping(data: Mapping[str, Any] | None) -> WarningRules:
    """Validate the ``[warnings]`` section; an absent section gives the defaults, an unknown key is refused."""
    values = dict(data or {})
    defaults = WarningRules()
    unknown = set(values) - set(WarningRules.__dataclass_fields__)
    if unknown:
        raise ValueError(f"warnings: unknown setting(s) {sorted(unknown)}")
    if "windows" in values:
        values["windows"] = tuple(sorted({int(w) for w in values["windows"]}))
    for name in ("baseline_weeks", "min_count"):
        if name in values:
            values[name] = int(values[name])
    for name in ("false_warnings_per_week", "max_p", "interval_minutes"):
        if name in values:
            values[name] = float(values[name])
    if "replaces_spike" in values and not isinstance(values["replaces_spike"], bool):
        raise ValueError("warnings.replaces_spike must be true or false")
    rules = WarningRules(**{**{f: getattr(defaults, f) for f in WarningRules.__dataclass_fields__}, **values})
    if not rules.windows or min(rules.windows) < 1 or max(rules.windows) > 28:
        raise ValueError("warnings.windows: between 1 and 28 days")
    if rules.baseline_weeks < 2 or rules.min_count < 1 or rules.interval_minutes <= 0:
        raise ValueError("warnings: baseline_weeks ≥ 2, min_count ≥ 1, interval_minutes > 0")
    if not 0 < rules.max_p < 1 or rules.false_warnings_per_week <= 0:
        raise ValueError("warnings: max_p in (0, 1), false_warnings_per_week > 0")
    return rules
