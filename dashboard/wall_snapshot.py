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

from dashboard.alerts import Alert, area_alert, combine_reasons, is_spike
from dashboard.contributions import FACT_CODES, FIGURES, epoch_us
from dashboard.figures import InstantCounts, PeriodCounts, WallFigures
from dashboard.periods import Period, day_key, local_date
from dashboard.rules import Rules
from dashboard.vocabulary import AlertLevel
from data_access.aggregates import AreaArrays

WINDOW_DAYS = 30
_RECEIVED = FIGURES.index("received")


class AreaState(tuple):  # type: ignore[type-arg]
    """One area's live values: what the map colours and the tooltip shows. Immutable.

    A tuple underneath, and ``last_30_days`` is built from the stored counts when asked for: a
    snapshot holds thousands of areas, every process decodes the shared one, and the map
    (``map_values``) only needs received and closed.
    """

    __slots__ = ()

    def __new__(cls, alert: Alert | None, open: int, overdue: int, last_30_days: PeriodCounts) -> AreaState:  # noqa: A002
        return tuple.__new__(cls, (alert, open, overdue, tuple(getattr(last_30_days, name) for name in FIGURES)))

    @classmethod
    def from_counts(cls, alert: Alert | None, open: int, overdue: int, counts: Sequence[int]) -> AreaState:  # noqa: A002
        """Without building ``PeriodCounts``: ``counts`` are the 30-day figures in ``FIGURES`` order."""
        return tuple.__new__(cls, (alert, open, overdue, tuple(counts)))

    @property
    def alert(self) -> Alert | None:
        return self[0]  # type: ignore[no-any-return]

    @property
    def open(self) -> int:
        return self[1]  # type: ignore[no-any-return]

    @property
    def overdue(self) -> int:
        return self[2]  # type: ignore[no-any-return]

    @property
    def last_30_days(self) -> PeriodCounts:
        return PeriodCounts(*self[3])

    def count(self, figure: str) -> int:
        """One 30-day figure without building ``last_30_days``."""
        return self[3][FIGURES.index(figure)]  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[object, ...]:
        return (AreaState.from_counts, tuple(self))

    def __repr__(self) -> str:
        return (f"AreaState(alert={self.alert!r}, open={self.open!r}, overdue={self.overdue!r}, "
                f"last_30_days={self.last_30_days!r})")


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
    spikes[list(_spikes(state.figures[:, :, _RECEIVED], rules))] = 1
    overdue, overdue_long, due_soon = state.clock[:, 0], state.clock[:, 1], state.clock[:, 2]
    keys = (((state.open[:, 2:] > 0).astype(np.int64) << np.arange(n_facts)).sum(axis=1)
            | (overdue_long > 0) << n_facts | (overdue > overdue_long) << (n_facts + 1)
            | (due_soon > 0) << (n_facts + 2) | (state.open[:, 0] > 0) << (n_facts + 3) | spikes << (n_facts + 4))
    shown = np.flatnonzero((sums[:, _RECEIVED] > 0) | (state.open[:, 0] > 0)).tolist()
    alerts = {key: _area_alert(key, rules) for key in set(keys[shown].tolist())}
    sums_rows, opened, late, codes = sums.tolist(), state.open[:, 0].tolist(), overdue.tolist(), state.codes
    area_keys = keys.tolist()
    make = AreaState.from_counts
    areas = {codes[a]: make(alerts[area_keys[a]], opened[a], late[a], sums_rows[a]) for a in shown}
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


_FORMAT = 3
"""Bumped when ``encode`` changes: a process of the previous build then recomputes instead."""


def encode(snapshot: WallSnapshot, minute: int) -> bytes:
    """The snapshot as compact JSON, tagged with (version, minute), for every process to share.

    Alerts go in a table of their own (areas share a few dozen); each area is one row: alert
    number (-1: none), open, overdue, and its 30-day counts in ``FIGURES`` order.
    """
    alerts: dict[Alert, int] = {}
    rows: dict[str, list[object]] = {}
    for code, state in snapshot.areas.items():
        number = -1 if state.alert is None else alerts.setdefault(state.alert, len(alerts))
        rows[code] = [number, state.open, state.overdue, state[3]]
    f = snapshot.figures
    return orjson.dumps({"k": _FORMAT, "v": snapshot.version, "m": minute, "c": snapshot.county,
                         "t": snapshot.computed_at.timestamp(),
                         "f": [_counts(f.today), _counts(f.last_30_days), [f.now.open, f.now.overdue, f.now.red]],
                         "l": [[a.level.value, a.reasons] for a in alerts], "a": rows})


def _counts(counts: PeriodCounts) -> list[int]:
    return [getattr(counts, name) for name in FIGURES]


def decode(raw: bytes, *, version: int, minute: int) -> WallSnapshot | None:
    """The shared snapshot if it is for this (version, minute), else ``None``."""
    data = orjson.loads(raw)
    if data.get("k") != _FORMAT or data["v"] != version or data["m"] != minute:
        return None
    alerts = [Alert(AlertLevel(level), tuple(reasons)) for level, reasons in data["l"]]
    alerts.append(None)  # type: ignore[arg-type]
    make = AreaState.from_counts
    areas = {code: make(alerts[row[0]], row[1], row[2], row[3]) for code, row in data["a"].items()}
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
        alert = state.alert
        out[code] = [alert.level.value if alert else None, state.open, state.overdue, state.count("received"),
                     state.count("closed"), list(alert.reasons) if alert else []]
    return out


def stale_after(refresh_seconds: float) -> timedelta:
    """How old the data may get before the wall says it is stale."""
    return timedelta(seconds=max(15.0, 5 * refresh_seconds))
