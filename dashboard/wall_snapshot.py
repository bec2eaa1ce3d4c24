"""Everything the wall shows, computed from the Redis aggregates in O(areas).

The snapshot is a pure function of (per-area counter arrays, now), so tests can compare it field
by field with SQL; ``data_access`` only fetches the arrays. An area's level is the worst level
among its open cases, which splits into the worst fact level (per-area reason counters) and the
worst clock level (deadline counts at ``now``); so no open case is looked at one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson

from dashboard.alerts import Alert, area_alert, is_spike
from dashboard.contributions import FACT_CODES, FIGURES, epoch_us
from dashboard.figures import InstantCounts, PeriodCounts, WallFigures
from dashboard.periods import Period, day_key, local_date
from dashboard.rules import Rules
from dashboard.vocabulary import AlertLevel
from data_access.aggregates import AreaArrays

WINDOW_DAYS = 30
_RECEIVED = FIGURES.index("received")


@dataclass(frozen=True, slots=True)
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


def window_day_keys(now: datetime) -> list[str]:
    """The 30 local days ending today, oldest first (also covers the 28-day spike baseline)."""
    return [day_key(d) for d in Period.trailing(local_date(now), WINDOW_DAYS).days()]


def deadline_bounds(now: datetime, rules: Rules) -> tuple[int, int, int]:
    """Deadline scores (µs) splitting open cases as ``alerts.clock_reasons`` does at ``now``:
    overdue below the first, overdue 7+ days at or below the second, due soon from the first up
    to the third (inclusive)."""
    return (epoch_us(now), epoch_us(now - timedelta(days=rules.orange_overdue_days)),
            epoch_us(now + timedelta(hours=rules.yellow_due_within_hours)))


def _fold(level: AlertLevel, rules: Rules) -> AlertLevel:
    """As ``alerts.alert_from_reasons``: a three-level county shows orange as yellow."""
    return AlertLevel.yellow if rules.levels == 3 and level is AlertLevel.orange else level


def open_cases_alert(reasons: list[tuple[AlertLevel, str]], rules: Rules) -> Alert:
    """The level of a set of open cases: their worst reason; every reason present, worst first."""
    if not reasons:
        return Alert(AlertLevel.blue, ())
    folded = sorted(((_fold(level, rules), code) for level, code in reasons), key=lambda item: -item[0].rank)
    return Alert(folded[0][0], tuple(code for _, code in folded))


def _spikes(received: np.ndarray, rules: Rules) -> set[int]:
    """Area indexes whose receipts today spike over the 28 days before (``alerts.is_spike``).

    A vectorised pass with a safety margin picks candidates; the rule itself decides each one.
    """
    if received.shape[0] < 2:
        return set()
    today = received[-1]
    base = received[max(0, received.shape[0] - 1 - rules.spike_baseline_days) : -1].astype(np.float64)
    limit = base.mean(axis=0) + rules.spike_sigmas * base.std(axis=0)
    candidates = np.flatnonzero((today >= rules.spike_min_cases) & (today > limit - 1e-6 * (1 + np.abs(limit))))
    return {int(a) for a in candidates if is_spike(int(today[a]), base[:, a].astype(np.int64).tolist(), rules)}


def build_snapshot(*, county: str, now: datetime, state: AreaArrays, rules: Rules) -> WallSnapshot:
    """Every KPI and every area's value from the window's counter arrays and the open counters."""
    sums = state.figures.sum(axis=0) if state.figures.shape[0] else np.zeros((len(state.codes), len(FIGURES)), int)
    received = state.figures[:, :, _RECEIVED]
    spikes = _spikes(received, rules)
    shown = np.flatnonzero((sums[:, _RECEIVED] > 0) | (state.open[:, 0] > 0))
    sums_rows, open_rows, clock_rows = sums.tolist(), state.open.tolist(), state.clock.tolist()
    areas: dict[str, AreaState] = {}
    for a in shown.tolist():
        opened = open_rows[a]
        overdue, overdue_long, due_soon = clock_rows[a]
        case_alerts: list[Alert] = []
        if opened[0]:
            reasons = [item for i, item in enumerate(FACT_CODES) if opened[2 + i]]
            if overdue_long:
                reasons.append((AlertLevel.orange, "overdue_long"))
            if overdue > overdue_long:
                reasons.append((AlertLevel.yellow, "overdue"))
            if due_soon:
                reasons.append((AlertLevel.yellow, "due_soon"))
            case_alerts.append(open_cases_alert(reasons, rules))
        alert = area_alert(case_alerts, spike=a in spikes, rules=rules)
        areas[state.codes[a]] = AreaState(alert, opened[0], overdue, PeriodCounts(*sums_rows[a]))
    index = state.codes.index(county) if county in state.codes else None
    if index is None:
        figures = WallFigures(PeriodCounts(), PeriodCounts(), InstantCounts())
    else:
        today = state.figures[-1, index].tolist() if state.figures.shape[0] else [0] * len(FIGURES)
        figures = WallFigures(
            today=PeriodCounts(*today),
            last_30_days=PeriodCounts(*sums_rows[index]),
            now=InstantCounts(open=open_rows[index][0], overdue=clock_rows[index][0], red=open_rows[index][1]),
        )
    return WallSnapshot(county, state.version, now, figures, areas)


def encode(snapshot: WallSnapshot, minute: int) -> bytes:
    """The snapshot as compact JSON, tagged with (version, minute), for every process to share."""
    f = snapshot.figures
    areas = {code: [s.alert.level.value if s.alert else None, list(s.alert.reasons) if s.alert else None,
                    s.open, s.overdue, list(s.last_30_days.__dict__.values())]
             for code, s in snapshot.areas.items()}
    return orjson.dumps({"v": snapshot.version, "m": minute, "c": snapshot.county,
                         "t": snapshot.computed_at.timestamp(),
                         "f": [list(f.today.__dict__.values()), list(f.last_30_days.__dict__.values()),
                               [f.now.open, f.now.overdue, f.now.red]], "a": areas})


def decode(raw: bytes, *, version: int, minute: int) -> WallSnapshot | None:
    """The shared snapshot if it is for this (version, minute), else ``None``."""
    data = orjson.loads(raw)
    if data["v"] != version or data["m"] != minute:
        return None
    alerts: dict[tuple[str, tuple[str, ...]], Alert] = {}
    areas: dict[str, AreaState] = {}
    for code, (level, reasons, opened, overdue, counts) in data["a"].items():
        alert = None
        if level is not None:
            key = (level, tuple(reasons))
            alert = alerts.get(key)
            if alert is None:
                alert = alerts[key] = Alert(AlertLevel(level), key[1])
        areas[code] = AreaState(alert, opened, overdue, PeriodCounts(*counts))
    today, window, now = data["f"]
    figures = WallFigures(PeriodCounts(*today), PeriodCounts(*window), InstantCounts(*now))
    return WallSnapshot(data["c"], version, datetime.fromtimestamp(data["t"], UTC), figures, areas)


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
