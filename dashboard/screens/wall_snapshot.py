"""Everything the wall shows, computed from the Redis aggregates in O(areas).

The snapshot is a pure function of (per-area counter arrays, now), so tests can compare it field
by field with SQL; ``data_access`` only fetches the arrays. An area's level is the worst level
among its open cases, which splits into the worst fact level (per-area reason counters) and the
worst clock level (deadline counts at ``now``); so no open case is looked at one by one.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import repeat

import numpy as np
import orjson

from dashboard.domain.alerts import Alert, area_alert, combine_reasons, is_spike
from dashboard.domain.contributions import FACT_CODES, FIGURES, epoch_us
from dashboard.imports.cycle_collector import cycle_collection_paused
from dashboard.domain.figures import InstantCounts, PeriodCounts, WallFigures
from dashboard.domain.periods import Period, day_key, local_date
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import AlertLevel
from data_access.aggregates import AreaArrays

WINDOW_DAYS = 30
_RECEIVED = FIGURES.index("received")


class AreaState(tuple):  # type: ignore[type-arg]
    """One area's live values: what the map colours and the tooltip shows. Immutable.

    A flat tuple (alert, open, overdue, then the 30-day counts in ``FIGURES`` order), and
    ``last_30_days`` is built from the counts when asked for: a snapshot holds thousands of areas,
    every process decodes the shared one (one object per area), and the map (``map_values``) only
    needs received and closed.
    """

    __slots__ = ()

    def __new__(cls, alert: Alert | None, open: int, overdue: int, last_30_days: PeriodCounts) -> AreaState:  # noqa: A002
        return tuple.__new__(cls, (alert, open, overdue, *(getattr(last_30_days, name) for name in FIGURES)))

    @classmethod
    def from_counts(cls, alert: Alert | None, open: int, overdue: int, counts: Sequence[int]) -> AreaState:  # noqa: A002
        """Without building ``PeriodCounts``: ``counts`` are the 30-day figures in ``FIGURES`` order."""
        return tuple.__new__(cls, (alert, open, overdue, *counts))

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
        return PeriodCounts(*self[3:])

    def count(self, figure: str) -> int:
        """One 30-day figure without building ``last_30_days``."""
        return self[3 + FIGURES.index(figure)]  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[object, ...]:
        return (AreaState.from_counts, (self[0], self[1], self[2], self[3:]))

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


_FORMAT = 4
"""Bumped when ``encode`` changes: a process of the previous build then recomputes instead."""

_MAGIC = b"wall-snapshot"
_PREFIX = struct.Struct("<13sHII")
"""Magic, format, then the lengths of the JSON header and of the area codes. Magic and format are
checked before anything else is read, so a JSON blob of format 3 (it starts with ``{``) or any
other bytes are refused at once."""
_COLUMNS = 3 + len(FIGURES)
"""Per area, as in ``AreaState``: alert number (-1: none), open, overdue, the 30-day counts."""
_INT32 = np.iinfo(np.int32)
_DTYPES: dict[str, np.dtype[np.int32] | np.dtype[np.int64]] = {"<i4": np.dtype("<i4"), "<i8": np.dtype("<i8")}
"""The counters in Redis are int32 per day, so a 30-day sum could in principle pass 2^31: the values
go as int32 when all of them fit (always, in practice: half the bytes) and as int64 otherwise, the
dtype named in the header; both little-endian whatever the machine, and both read back exactly."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode(snapshot: WallSnapshot, minute: int) -> bytes:
    """The snapshot tagged with (format, version, minute), for every process to share.

    A small JSON header (county, version, minute, time, KPIs and the alert table, which areas
    share), the area codes as one ``\\n``-joined string, then the per-area values column by column
    (``_COLUMNS`` arrays of one integer per area): decoding those is one ``np.frombuffer`` and one
    ``tolist`` instead of parsing some 25,000 JSON numbers.
    """
    alerts: dict[Alert, int] = {}
    rows = [(-1 if state[0] is None else alerts.setdefault(state[0], len(alerts)), *state[1:])
            for state in snapshot.areas.values()]
    values = np.array(rows, dtype=np.int64).reshape(len(rows), _COLUMNS)
    fits = not values.size or (values.min() >= _INT32.min and values.max() <= _INT32.max)
    dtype = "<i4" if fits else "<i8"
    f = snapshot.figures
    header = orjson.dumps({"v": snapshot.version, "m": minute, "c": snapshot.county,
                           "t": epoch_us(snapshot.computed_at),
                           "f": [_counts(f.today), _counts(f.last_30_days), [f.now.open, f.now.overdue, f.now.red]],
                           "l": [[a.level.value, a.reasons] for a in alerts], "n": len(rows), "d": dtype})
    codes = "\n".join(snapshot.areas).encode()
    return b"".join((_PREFIX.pack(_MAGIC, _FORMAT, len(header), len(codes)), header, codes,
                     values.T.astype(_DTYPES[dtype], order="C").tobytes()))


def _counts(counts: PeriodCounts) -> list[int]:
    return [getattr(counts, name) for name in FIGURES]


def decode(raw: bytes, *, version: int, minute: int) -> WallSnapshot | None:
    """The shared snapshot if it is for this (format, version, minute), else ``None``.

    Also ``None`` for anything this build cannot read whole (a blob of another build, cut short or
    garbled): another process wrote it, and recomputing is always right where misreading is not.
    """
    if len(raw) < _PREFIX.size:
        return None
    magic, form, header_size, codes_size = _PREFIX.unpack_from(raw)
    if magic != _MAGIC or form != _FORMAT:
        return None
    view = memoryview(raw)
    codes_at = _PREFIX.size + header_size
    values_at = codes_at + codes_size
    try:
        header = orjson.loads(view[_PREFIX.size : codes_at])
        if not isinstance(header, dict) or header.get("v") != version or header.get("m") != minute:
            return None
        n = header["n"]
        codes = _codes(bytes(view[codes_at:values_at])) if n else ()
        alerts = [_alert(level, tuple(reasons)) for level, reasons in header["l"]]
        areas = _areas(codes, n, _DTYPES[header["d"]], view[values_at:], alerts)
        today, window, now = header["f"]
        figures = WallFigures(PeriodCounts(*today), PeriodCounts(*window), InstantCounts(*now))
        computed_at = _EPOCH + timedelta(microseconds=header["t"])
        return None if areas is None else WallSnapshot(header["c"], version, computed_at, figures, areas)
    except (ValueError, KeyError, TypeError):
        return None


@lru_cache(maxsize=1024)
def _alert(level: str, reasons: tuple[str, ...]) -> Alert:
    """Areas share a few dozen alerts, the same ones minute after minute."""
    return Alert(AlertLevel(level), reasons)


@lru_cache(maxsize=8)
def _codes(joined: bytes) -> tuple[str, ...]:
    """The area codes change only when areas do: each minute's snapshot reuses the strings (and
    their hashes) of the last one instead of decoding, splitting and hashing 2,000 new ones."""
    return tuple(joined.decode().split("\n"))


def _areas(codes: tuple[str, ...], n: int, dtype: np.dtype[np.int32] | np.dtype[np.int64], body: memoryview,
           alerts: list[Alert]) -> dict[str, AreaState] | None:
    """The areas from their codes and value columns; ``None`` unless both are whole and every alert
    number is in the table."""
    if len(codes) != n or len(body) != n * _COLUMNS * dtype.itemsize:
        return None
    values = np.frombuffer(body, dtype=dtype).reshape(_COLUMNS, n)
    if n and not -1 <= values[0].min() <= values[0].max() < len(alerts):
        return None
    numbers, *columns = values.tolist()
    table: list[Alert | None] = [*alerts, None]
    # AreaState.from_counts without a Python call per area: zip makes each area's row in C and
    # tuple.__new__ turns it into an AreaState.
    rows = zip(map(table.__getitem__, numbers), *columns)
    with cycle_collection_paused():
        return dict(zip(codes, map(tuple.__new__, repeat(AreaState), rows)))


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
