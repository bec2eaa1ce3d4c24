"""Deadlines and alert thresholds: configuration, not code (DESIGN.md)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard.domain.matter_rules import MatterRules, matter_rules_from_mapping
from dashboard.domain.warning_rules import WarningRules, warning_rules_from_mapping
from dashboard.domain.vocabulary import Category, Tier

DEFAULT_RULES_FILE = Path(__file__).with_name("rules.toml")


@dataclass(frozen=True)
class Rules:
    assess_hours: float
    follow_up_days: float
    petition_resolve_days: float
    resolve_days: dict[Tier, float]
    category_resolve_days: dict[Category, float]
    levels: int
    red_people: int
    orange_people: int
    orange_overdue_days: float
    yellow_due_within_hours: float
    spike_baseline_days: int
    spike_sigmas: float
    spike_min_cases: int
    scheduler_interval_seconds: float
    supervise_after_overdue_hours: float
    escalate_after_overdue_days: float
    matters: MatterRules = field(default_factory=MatterRules)
    """One matter across channels and repeat callers (``[matters]``, optional)."""
    warnings: WarningRules = field(default_factory=WarningRules)
    """Early warning by baseline (``[warnings]``, optional)."""


class RulesError(ValueError):
    """The rules file is missing a value or holds one that cannot work."""


def rules_from_mapping(data: dict[str, Any]) -> Rules:
    """Validate a parsed rules document; every key is required so a typo cannot pass silently."""
    try:
        deadlines, alerts, scheduler = data["deadlines"], data["alerts"], data["scheduler"]
        rules = Rules(
            assess_hours=float(deadlines["assess_hours"]),
            follow_up_days=float(deadlines["follow_up_days"]),
            petition_resolve_days=float(deadlines["petition_resolve_days"]),
            resolve_days={Tier(k): float(v) for k, v in deadlines["resolve_days"].items()},
            category_resolve_days={Category(k): float(v) for k, v in deadlines.get("category_resolve_days", {}).items()},
            levels=int(alerts["levels"]),
            red_people=int(alerts["red_people"]),
            orange_people=int(alerts["orange_people"]),
            orange_overdue_days=float(alerts["orange_overdue_days"]),
            yellow_due_within_hours=float(alerts["yellow_due_within_hours"]),
            spike_baseline_days=int(alerts["spike_baseline_days"]),
            spike_sigmas=float(alerts["spike_sigmas"]),
            spike_min_cases=int(alerts["spike_min_cases"]),
            scheduler_interval_seconds=float(scheduler["interval_seconds"]),
            supervise_after_overdue_hours=float(scheduler["supervise_after_overdue_hours"]),
            escalate_after_overdue_days=float(scheduler["escalate_after_overdue_days"]),
            matters=matter_rules_from_mapping(data.get("matters")),
            warnings=warning_rules_from_mapping(data.get("warnings")),
        )
    except KeyError as missing:
        raise RulesError(f"rules: missing setting {missing}") from None
    except ValueError as bad:
        raise RulesError(f"rules: {bad}") from None
    if set(rules.resolve_days) != set(Tier):
        raise RulesError("rules: deadlines.resolve_days needs village, township and county")
    if rules.levels not in (3, 4):
        raise RulesError("rules: alerts.levels must be 3 or 4")
    if min(rules.assess_hours, rules.follow_up_days, *rules.resolve_days.values(), *rules.category_resolve_days.values(), 1) <= 0:
        raise RulesError("rules: deadlines must be positive")
    return rules


def load_rules(path: Path | None = None) -> Rules:
    """Read the rules file (default: the one shipped beside this module)."""
    path = path or DEFAULT_RULES_FILE
    try:
        with path.open("rb") as handle:
            return rules_from_mapping(tomllib.load(handle))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RulesError(f"rules: cannot read {path}: {error}") from None
