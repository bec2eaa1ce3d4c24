"""Everything the wall shows, computed from the Redis aggregates in one pass.

The snapshot is a pure function of (day counters, open entries, now), so tests can compare it
field by field with SQL; ``data_access`` only fetches the raw values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from dashboard.alerts import Alert, area_alert, is_spike
from dashboard.contributions import OpenEntry
from dashboard.figures import InstantCounts, PeriodCounts, WallFigures
from dashboard.periods import Period, day_key, local_date
from dashboard.rules import Rules
from dashboard.vocabulary import AlertLevel

WINDOW_DAYS = 30
_PERIOD_FIELDS = [f.name for f in fields(PeriodCounts)]


@dataclass(frozen=True)
class AreaState:
    """One area's live values: what the map colours and the tooltip shows."""

    alert: Alert | None
    open: int
    overdue: int
    last_30_days: PeriodCounts


@dataclass(frozen=True)
class WallSnapshot:
    county: str
    version: int
    computed_at: datetime
    figures: WallFigures
    areas: dict[str, AreaState] = field(default_factory=dict)


def _sum_counts(days: Mapping[str, Mapping[str, int]], wanted: list[str], area: str) -> PeriodCounts:
    return PeriodCounts(**{n: sum(days.get(d, {}).get(f"{area}:{n}", 0) for d in wanted) for n in _PERIOD_FIELDS})


def window_day_keys(now: datetime) -> list[str]:
    """The 30 local days ending today, oldest first (also covers the 28-day spike baseline)."""
    return [day_key(d) for d in Period.trailing(local_date(now), WINDOW_DAYS).days()]


def build_snapshot(
    *,
    county: str,
    version: int,
    now: datetime,
    days: Mapping[str, Mapping[str, int]],
    open_entries: Mapping[int, OpenEntry],
    rules: Rules,
) -> WallSnapshot:
    window = window_day_keys(now)
    today = window[-1]

    per_area_alerts: dict[str, list[Alert]] = defaultdict(list)
    per_area_open: dict[str, int] = defaultdict(int)
    per_area_overdue: dict[str, int] = defaultdict(int)
    red = overdue_total = 0
    now_epoch = now.timestamp()
    for entry in open_entries.values():
        alert = entry.alert(now, rules)
        late = entry.due_epoch < now_epoch
        red += alert.level is AlertLevel.red
        overdue_total += late
        for area in entry.areas:
            per_area_alerts[area].append(alert)
            per_area_open[area] += 1
            per_area_overdue[area] += late

    # One pass over every counter of the window: per-area sums, and per-area daily receipts for
    # the spike rule. (Summing per area × day × figure instead costs 20× more on a county.)
    sums: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_PERIOD_FIELDS, 0))
    received_by_day: dict[str, list[int]] = defaultdict(lambda: [0] * len(window))
    for index, day in enumerate(window):
        for name, value in days.get(day, {}).items():
            area, _, figure = name.partition(":")
            totals = sums[area]
            if figure in totals:
                totals[figure] += value
                if figure == "received":
                    received_by_day[area][index] = value

    areas: dict[str, AreaState] = {}
    baseline_slice = slice(len(window) - 1 - rules.spike_baseline_days, len(window) - 1)
    for area in set(per_area_open) | set(sums):
        daily = received_by_day.get(area)
        spike = bool(daily) and is_spike(daily[-1], daily[baseline_slice], rules)  # type: ignore[index]
        alert = area_alert(per_area_alerts.get(area, ()), spike=spike, rules=rules)
        counts = PeriodCounts(**sums[area]) if area in sums else PeriodCounts()
        areas[area] = AreaState(alert, per_area_open.get(area, 0), per_area_overdue.get(area, 0), counts)

    figures = WallFigures(
        today=_sum_counts(days, [today], county),
        last_30_days=areas[county].last_30_days if county in areas else PeriodCounts(),
        now=InstantCounts(open=len(open_entries), overdue=overdue_total, red=red),
    )
    return WallSnapshot(county, version, now, figures, areas)


def map_values(snapshot: WallSnapshot, codes: list[str]) -> dict[str, list[object]]:
    """Compact per-area values for the browser: [level, open, overdue, received 30 d, closed 30 d, reasons].

    Only ids and numbers travel; geometry was sent once.
    """
    out: dict[str, list[object]] = {}
    for code in codes:
        state = snapshot.areas.get(code)
        if state is None:
            continue
        counts = state.last_30_days
        alert = state.alert
        out[code] = [alert.level.value if alert else None, state.open, state.overdue, counts.received, counts.closed,
                     list(alert.reasons) if alert else []]
    return out


def stale_after(refresh_seconds: float) -> timedelta:
    """How old the data may get before the wall says it is stale."""
    return timedelta(seconds=max(15.0, 5 * refresh_seconds))
