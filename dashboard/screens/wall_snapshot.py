"""Everything the wall shows, computed from the Redis aggregates in O(areas).

The snapshot is a pure function of (per-area counter arrays, now), so tests can compare it field
by field with SQL; ``data_access`` only fetches the arrays. An area's level is the worst level
among its open cases, which splits into the worst fact level (per-area reason counters) and the
worst clock level (deadline counts at ``now``); so no open case is looked at one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson

from dashboard.domain.alerts import Alert, area_alert, combine_reasons, is_spike
from dashboard.domain.contributions import FACT_CODES, FIGURES, epoch_us
from dashboard.domain.figures import InstantCounts, PeriodCounts, WallFigures
from dashboard.domain.periods import Period, day_key, local_date
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import AlertLevel
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

    @classmethod
    def from_counts(cls, alert: Alert | None, open: int, overdue: int, counts: Sequence[int]) -> AreaState:  # noqa: A002
        """``counts`` are the 30-day figures in ``FIGURES`` order."""
        return cls(alert, open, overdue, PeriodCounts(*counts))


@dataclass(frozen=True)
class WallSnapshot:
    """The wall's KPIs and every area that has cases, for one county at one aggregate version."""

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


def _area_alert(key: int, rules: Rules) -> Alert | None:
    """The alert of an area described by ``key``: bits 0–6 the fact reasons present among its open
    cases, then overdue 7+ days, overdue, due soon, "has open cases", spike."""
    n = len(FACT_CODES)
    case_alerts: list[Alert] = []
    if key >> (n + 3) & 1:
        reasons = [item for i, item in enumerate(FACT_CODES) if key >> i & 1]
        for bit, reason in enumerate(_CLOCK_REASONS):
            if key >> (n + bit) & 1:
                reasons.append(reason)
        case_alerts.append(combine_reasons(reasons, rules))
    return area_alert(case_alerts, spike=bool(key >> (n + 4) & 1), rules=rules)


_CLOCK_REASONS = ((AlertLevel.orange, "overdue_long"), (AlertLevel.yellow, "overdue"), (AlertLevel.yellow, "due_soon"))


def build_snapshot(*, county: str, now: datetime, state: AreaArrays, rules: Rules) -> WallSnapshot:
    """Every KPI and every area's value from the window's counter arrays and the open counters.

    Areas whose open cases show the same set of reasons share one ``Alert``: the rule runs once per
    distinct set (a few dozen), not once per area.
    """
    n_facts = len(FACT_CODES)
    sums = state.figures.sum(axis=0) if state.figures.shape[0] else np.zeros((len(state.codes), len(FIGURES)), int)
    spikes = np.zeros(len(state.codes), dtype=np.int64)
    if not rules.warnings.replaces_spike:  # the 3σ rise, unless early warnings replace it (docs/design-decisions.md)
        spikes[list(_spikes(state.figures[:, :, _RECEIVED], rules))] = 1
    overdue, overdue_long, due_soon = state.clock[:, 0], state.clock[:, 1], state.clock[:, 2]
    keys = (((state.open[:, 2:] > 0).astype(np.int64) << np.arange(n_facts)).sum(axis=1)
            | (overdue_long > 0) << n_facts | (overdue > overdue_long) << (n_facts + 1)
            | (due_soon > 0) << (n_facts + 2) | (state.open[:, 0] > 0) << (n_facts + 3) | spikes << (n_facts + 4))
    shown = np.flatnonzero((sums[:, _RECEIVED] > 0) | (state.open[:, 0] > 0)).tolist()
    alerts = {key: _area_alert(key, rules) for key in set(keys[shown].tolist())}
    sums_rows, opened, late, codes = sums.tolist(), state.open[:, 0].tolist(), overdue.tolist(), state.codes
    area_keys = keys.tolist()
    areas = {codes[a]: AreaState.from_counts(alerts[area_keys[a]], opened[a], late[a], sums_rows[a]) for a in shown}
    if county not in codes:
        figures = WallFigures(PeriodCounts(), PeriodCounts(), InstantCounts())
    else:
        index = codes.index(county)
        today = state.figures[-1, index].tolist() if state.figures.shape[0] else [0] * len(FIGURES)
        figures = WallFigures(
            today=PeriodCounts(*today),
            last_30_days=PeriodCounts(*sums_rows[index]),
            now=InstantCounts(open=opened[index], overdue=late[index], red=int(state.open[index, 1])),
        )
    return WallSnapshot(county, state.version, now, figures, areas)


_FORMAT = 5
"""Bumped when ``encode`` changes: a process of another build then recomputes instead of misreading."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ROW = 3 + len(FIGURES)
"""Per area: alert number (-1: none), open, overdue, then the 30-day counts in ``FIGURES`` order."""


def encode(snapshot: WallSnapshot, minute: int) -> bytes:
    """The snapshot as JSON tagged with (format, version, minute), for every process to share.

    Areas share a few dozen alerts: each alert is written once in a table and areas refer to it by
    number.
    """
    alerts: dict[Alert, int] = {}
    areas = {code: [-1 if state.alert is None else alerts.setdefault(state.alert, len(alerts)),
                    state.open, state.overdue, *_counts(state.last_30_days)]
             for code, state in snapshot.areas.items()}
    f = snapshot.figures
    return orjson.dumps({"k": _FORMAT, "v": snapshot.version, "m": minute, "c": snapshot.county,
                         "t": epoch_us(snapshot.computed_at),
                         "f": [_counts(f.today), _counts(f.last_30_days), [f.now.open, f.now.overdue, f.now.red]],
                         "l": [[a.level.value, a.reasons] for a in alerts], "a": areas})


def _counts(counts: PeriodCounts) -> list[int]:
    return [getattr(counts, name) for name in FIGURES]


def decode(raw: bytes, *, version: int, minute: int) -> WallSnapshot | None:
    """The shared snapshot if it is for this (format, version, minute), else ``None``.

    Also ``None`` for anything this build cannot read whole (a blob of another build, cut short or
    garbled): another process wrote it, and recomputing is always right where misreading is not.
    """
    try:
        doc = orjson.loads(raw)
        if not isinstance(doc, dict) or doc.get("k") != _FORMAT or doc.get("v") != version or doc.get("m") != minute:
            return None
        table: list[Alert | None] = [Alert(AlertLevel(level), tuple(reasons)) for level, reasons in doc["l"]]
        table.append(None)  # number -1
        areas = {}
        for code, row in doc["a"].items():
            number, opened, overdue, *counts = row
            if len(row) != _ROW or not -1 <= number < len(table) - 1:
                return None
            areas[code] = AreaState(table[number], opened, overdue, PeriodCounts(*counts))
        today, window, now = doc["f"]
        figures = WallFigures(PeriodCounts(*today), PeriodCounts(*window), InstantCounts(*now))
        return WallSnapshot(doc["c"], version, _EPOCH + timedelta(microseconds=doc["t"]), figures, areas)
    except (ValueError, KeyError, TypeError):
        return None


def map_values(snapshot: WallSnapshot, codes: list[str]) -> dict[str, list[object]]:
    """Compact per-area values for the browser: [level, open, overdue, received 30 d, closed 30 d, reasons].

    Only ids and numbers travel; geometry was sent once.
    """
    out: dict[str, list[object]] = {}
    for code in codes:
        state = snapshot.areas.get(code)
        if state is None:
            continue
        alert = state.alert
        out[code] = [alert.level.value if alert else None, state.open, state.overdue,
                     state.last_30_days.received, state.last_30_days.closed, list(alert.reasons) if alert else []]
    return out


def stale_after(refresh_seconds: float) -> timedelta:
    """How old the data may get before the wall says it is stale."""
    return timedelta(seconds=max(15.0, 5 * refresh_seconds))
