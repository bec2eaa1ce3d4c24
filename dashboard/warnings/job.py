"""The warnings job: count, ask the baseline model, keep ``area_warning`` in step, tell the screens.

Runs inside every app process's scheduler thread, but one Redis key per county makes one process
do it once per ``[warnings] interval_minutes``; a lock keeps two runs from overlapping when one is
forced (``python -m dashboard warnings run``, a test). A warning that keeps firing is one row,
updated; one that stops is closed; one that comes back within a day is reopened, so a count
hovering at the threshold does not flash a new warning every ten minutes. A deployment serving
a city or a province runs it for each served county, each on its own (one county's failure is
logged and the others still run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
import redis
from sqlalchemy.orm import Session

from dashboard.domain.periods import LOCAL_TZ, day_start, local_date
from dashboard.domain.vocabulary import Category
from dashboard.domain.warning_model import Evaluation, day_share, evaluate, history_days, season_days
from dashboard.domain.warning_rules import WarningRules
from dashboard.domain.warning_text import reason_text
from data_access import warnings as store
from data_access.models import AreaWarning

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

log = logging.getLogger(__name__)
CATEGORIES = [c.value for c in Category]
REOPEN_WITHIN = timedelta(days=1)
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class JobReport:
    ran: bool
    open: int = 0
    opened: int = 0
    cleared: int = 0
    alpha: float | None = None
    tests: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class History:
    """What the model reads, binned by local day (Asia/Shanghai keeps no summer time, so a local
    day is 86,400 seconds from its start)."""

    counts: npt.NDArray[np.int64]
    totals: npt.NDArray[np.float64]
    hours: npt.NDArray[np.float64]
    share_of_today: float


def read_history(session: Session, county: str, tree: store.AreaTree, now: datetime, rules: WarningRules) -> History:
    today = local_date(now)
    span, long_span = history_days(rules), season_days(rules)
    first, long_first = today - timedelta(days=span - 1), today - timedelta(days=long_span - 1)
    start, long_start = day_start(first), day_start(long_first)

    seconds, grids, categories = store.receipts(session, county, start, now + timedelta(seconds=1))
    counts = np.zeros((span, len(tree.codes), len(CATEGORIES)), dtype=np.int64)
    category_index = {c: i for i, c in enumerate(CATEGORIES)}
    first_second = int(start.timestamp())
    keep = [i for i, g in enumerate(grids) if g in tree.grid_rows and categories[i] in category_index
            and (seconds[i] - first_second) // DAY_SECONDS < span]
    if keep:
        days = (seconds[keep] - first_second) // DAY_SECONDS
        rows = np.array([tree.grid_rows[grids[i]] for i in keep], dtype=np.int64)
        cats = np.array([category_index[categories[i]] for i in keep], dtype=np.int64)
        for level in range(rows.shape[1]):
            np.add.at(counts, (days, rows[:, level], cats), 1)
    baseline_end = int(day_start(today - timedelta(days=max(rules.windows) - 1)).timestamp())
    local_hours = ((seconds + int(now.astimezone(LOCAL_TZ).utcoffset().total_seconds())) // 3600) % 24  # type: ignore[union-attr]
    hours = np.bincount(local_hours[seconds < baseline_end], minlength=24).astype(np.float64)

    times = store.receipt_times(session, county, long_start, now + timedelta(seconds=1))
    totals = np.bincount((times - int(long_start.timestamp())) // DAY_SECONDS, minlength=long_span)[:long_span]
    local_now = now.astimezone(LOCAL_TZ)
    share = day_share(hours, local_now.hour * 60 + local_now.minute + local_now.second / 60)
    return History(counts, totals.astype(np.float64), hours, share)


def assess(session: Session, county: str, now: datetime, rules: WarningRules) -> tuple[store.AreaTree, Evaluation]:
    """Every area × category of the county that warns at ``now``."""
    tree = store.area_tree(session, county)
    history = read_history(session, county, tree, now, rules)
    return tree, evaluate(history.counts, history.totals, today=local_date(now),
                          share_of_today=history.share_of_today, rules=rules)


def _fill(row: AreaWarning, tree: store.AreaTree, area: int, category: str, found: object, now: datetime) -> bool:
    """Copy a finding onto a row; whether anything a screen shows changed."""
    window, observed, expected, p = found.window, found.observed, found.expected, found.p  # type: ignore[attr-defined]
    texts = {lang: reason_text(category=category, place=tree.names[area], window=window, observed=observed,
                               expected=expected, p=p, lang=lang)[:255] for lang in ("zh", "en")}
    changed = (row.window_days, row.observed, row.reason_zh) != (window, observed, texts["zh"])
    row.window_days, row.observed, row.expected, row.p_value = window, observed, float(expected), float(p)
    row.reason_zh, row.reason_en, row.last_seen = texts["zh"], texts["en"], now
    return changed


def sync(session: Session, county: str, tree: store.AreaTree, evaluation: Evaluation, now: datetime) -> tuple[int, int, int, bool]:
    """Make the open rows match the findings: (open, opened, cleared, whether screens must hear of it)."""
    found = {(tree.codes[f.area], CATEGORIES[f.category]): f for f in evaluation.findings}
    index = tree.index()
    changed = False
    opened = cleared = 0
    held: set[tuple[str, str]] = set()
    for row in store.all_open(session, county):
        key = (row.area_code, row.category)
        if key in found and key not in held:
            held.add(key)
            changed |= _fill(row, tree, index[row.area_code], row.category, found[key], now)
        else:
            row.cleared_at = now
            cleared += 1
            changed = True
    recent = {(r.area_code, r.category): r for r in reversed(store.cleared_since(session, county, now - REOPEN_WITHIN))}
    new_rows = []
    for key, finding in found.items():
        if key in held:
            continue
        row = recent.get(key)
        if row is None:
            row = AreaWarning(county_code=county, area_code=key[0], area_level=tree.levels[finding.area],
                              category=key[1], first_seen=now)
            new_rows.append(row)
        row.cleared_at = None
        _fill(row, tree, finding.area, key[1], finding, now)
        opened += 1
        changed = True
    store.add(session, new_rows)
    return len(found), opened, cleared, changed


def run(rt: Runtime, *, now: datetime | None = None, force: bool = False, county: str | None = None) -> JobReport:
    """One run for every served county (or ``county`` only), summed: ``ran`` when at least one
    county ran here; ``alpha`` the smallest of theirs (the strictest test level)."""
    done = [r for r in run_counties(rt, now=now, force=force,
                                    counties=[county] if county is not None else None).values() if r.ran]
    if not done:
        return JobReport(ran=False)
    alphas = [r.alpha for r in done if r.alpha is not None]
    return JobReport(True, sum(r.open for r in done), sum(r.opened for r in done), sum(r.cleared for r in done),
                     min(alphas) if alphas else None, sum(r.tests for r in done), sum(r.seconds for r in done))


def run_counties(rt: Runtime, *, now: datetime | None = None, force: bool = False,
                 counties: list[str] | None = None) -> dict[str, JobReport]:
    """One run for each of ``counties`` (default: every served county), each county's report apart.

    A county whose run raised is logged and left out, the others still run (the same rule as
    ``dashboard.cases.periodic.for_each_county``, which this package cannot import: the scheduler
    there calls this job)."""
    moment = now or rt.clock()
    reports: dict[str, JobReport] = {}
    for county in rt.served_counties() if counties is None else counties:
        try:
            reports[county] = run_county(rt, county, now=moment, force=force)
        except Exception:  # noqa: BLE001 - one county's failure must not stop the others
            log.exception("warnings: the run for county %s failed; the other counties go on", county)
    return reports


def run_county(rt: Runtime, county: str, *, now: datetime, force: bool = False) -> JobReport:
    """One run for ``county``, unless another process ran it within the interval (``force``
    skips that check, not the lock)."""
    rules = rt.rules.warnings
    interval = int(rules.interval_minutes * 60)
    if not force and not rt.redis.set(store.due_key(county), now.isoformat(), nx=True, ex=max(interval, 1)):
        return JobReport(ran=False)
    lock = rt.redis.lock(store.lock_key(county), timeout=max(120, interval))
    if not lock.acquire(blocking=force, blocking_timeout=30 if force else None):
        return JobReport(ran=False)
    started = time.perf_counter()
    try:
        with rt.sessions() as session, session.begin():
            tree, evaluation = assess(session, county, now, rules)
            total, opened, cleared, changed = sync(session, county, tree, evaluation, now)
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            log.warning("warnings lock expired during a run")
    if changed:
        try:
            store.announce(rt.redis, county)
        except redis.exceptions.RedisError:
            log.warning("warnings changed but Redis is away: screens see them at their next minute", exc_info=True)
    return JobReport(True, total, opened, cleared, evaluation.alpha, evaluation.tests, time.perf_counter() - started)
