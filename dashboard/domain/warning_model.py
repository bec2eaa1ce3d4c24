"""Early warning by baseline: how many cases an area × category should have had over the last
1, 3 and 7 days, and how improbable the count it has is (DESIGN.md "Early warning").

For area ``a``, category ``c`` and local day ``d`` the expected count is

    λ(a, c, d) = level(a, c) × weekday(d) × season(d)

- **level**: the area × category's cases over the baseline (the ``baseline_weeks`` whole weeks
  that end before the longest window, so an outbreak under way does not raise its own
  baseline), per weekday-weighted day;
- **weekday**: the county's cases on that weekday over the baseline divided by its daily mean.
  Pooled over areas and categories: a grid has too few cases to learn its own week;
- **season**: the county's cases in the 14 days around the same weekday 52 weeks back, over its
  daily mean in last year's copy of the baseline (同期): the baseline is moved along the year.
  Without a year of history (or with gaps in it) the season is 1;
- **today** counts only the share of a day's cases that is normally in by this hour.

A level learnt from a few cases is uncertain. The level has a gamma prior worth
``PRIOR_CASES`` cases whose mean is the area's own level over all categories times the county's
share of the category (a grid with no land case in eight weeks still has the county's mix of
categories), so the posterior is gamma and the count over a window negative binomial rather than
Poisson: an area with little history is not "infinitely" surprised by one case, nor blind to a
burst. The p-value of a test is P(X ≥ observed) under that distribution.

**How improbable is improbable.** Every run makes (areas × categories × windows) tests, about
76,000 for the demo county; a fixed level such as 0.001 would warn dozens of times a day. The
level ``alpha`` is set at every run from ``false_warnings_per_week``: a test with no outbreak
warns with probability at most ``min(tmin, alpha)``, where ``tmin`` is the chance of reaching the
minimum count at all (tiny for a grid); ``alpha`` is the largest level whose sum over all tests
stays within the day's budget (a Bonferroni bound that spends nothing on tests that cannot
warn, after Tarone). ``max_p`` caps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from scipy.stats import nbinom

from dashboard.domain.warning_rules import WarningRules

PRIOR_CASES = 1.0
"""Weight of the prior of an area × category's level, in cases."""
PRIOR_AREA_CASES = 0.5
"""Cases added to an area's total before it is shared out over the categories (an area with no
case at all still has a small, non-zero level)."""
YEAR_DAYS = 364
"""52 weeks: last year's same weekday."""
SEASON_HALF_SPAN = 7
MIN_DAY_SHARE = 0.02
"""Just after midnight today's exposure is not taken as zero (the minimum count guards too)."""

Counts = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Finding:
    """One area × category that warns, in the window where its count is least probable."""

    area: int
    """Index into the caller's list of areas."""
    category: int
    """Index into the caller's list of categories."""
    window: int
    observed: int
    expected: float
    p: float


@dataclass(frozen=True)
class Evaluation:
    alpha: float
    """The per-test level this run used."""
    tests: int
    findings: list[Finding]


def history_days(rules: WarningRules) -> int:
    """Days of area × category counts (ending today) that :func:`evaluate` reads."""
    return rules.baseline_weeks * 7 + max(rules.windows)


def season_days(rules: WarningRules) -> int:
    """Days of county totals (ending today) needed for the seasonal factor."""
    return history_days(rules) + YEAR_DAYS + SEASON_HALF_SPAN


def day_share(hour_counts: Sequence[float], minutes_since_midnight: float) -> float:
    """The share of a day's cases normally received by this time, from cases per local hour
    (0–23) over the history; uniform when there is no history."""
    counts = np.asarray(hour_counts, dtype=np.float64)
    total = counts.sum()
    minutes = min(max(minutes_since_midnight, 0.0), 24 * 60.0)
    if total <= 0:
        share = minutes / (24 * 60)
    else:
        hour = int(minutes // 60)
        share = (counts[:hour].sum() + (counts[hour] * (minutes - 60 * hour) / 60 if hour < 24 else 0.0)) / total
    return float(min(1.0, max(MIN_DAY_SHARE, share)))


def weekday_factors(totals: npt.NDArray[np.float64], first_day: date) -> npt.NDArray[np.float64]:
    """Cases on each weekday (Monday = 0) over their daily mean, from whole weeks of totals."""
    mean = totals.mean() if totals.size else 0.0
    if mean <= 0:
        return np.ones(7)
    weekdays = (first_day.weekday() + np.arange(totals.size)) % 7
    factors = np.array([totals[weekdays == w].mean() if np.any(weekdays == w) else mean for w in range(7)]) / mean
    return np.where(factors > 0, factors, 1.0)


def _complete(values: npt.NDArray[np.float64]) -> bool:
    """A stretch of county totals with at most one empty day in seven: a history, not a gap."""
    return values.size > 0 and np.count_nonzero(values == 0) * 7 <= values.size


def season_factor(totals: npt.NDArray[np.float64], today: date, day: date, baseline: tuple[date, date]) -> float:
    """The county's level around ``day`` relative to the baseline's, read off last year.

    ``totals`` are daily county totals ending ``today``. Returns 1 when last year is not there."""
    def span(start: date, end: date) -> npt.NDArray[np.float64] | None:
        first = totals.size - 1 - (today - start).days
        last = totals.size - 1 - (today - end).days
        return totals[first : last + 1] if first >= 0 and last < totals.size else None

    year = timedelta(days=YEAR_DAYS)
    around = span(day - year - timedelta(days=SEASON_HALF_SPAN), day - year + timedelta(days=SEASON_HALF_SPAN - 1))
    then = span(baseline[0] - year, baseline[1] - year)
    if around is None or then is None or not _complete(around) or not _complete(then):
        return 1.0
    return float(around.mean() / then.mean())


def allocate_alpha(tmin: npt.NDArray[np.float64], budget: float) -> float:
    """The largest level ``a`` with ``sum(min(tmin, a)) <= budget`` (1.0 when even ``a = 1`` fits)."""
    if float(np.minimum(tmin, 1.0).sum()) <= budget:
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        if float(np.minimum(tmin, mid).sum()) <= budget:
            low = mid
        else:
            high = mid
    return low


def posterior(base: Counts, weight_sum: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Gamma posterior (shape, rate per weekday-weighted day) of each area × category's level.

    ``base``: baseline cases per day × area × category; ``weight_sum``: the baseline's weekday
    weights summed. The prior's mean is the area's level over all categories shared out by the
    county's category mix (the county is area 0's total: every area's cases sum to it)."""
    cases = base.sum(axis=0).astype(np.float64)
    area_total = cases.sum(axis=1, keepdims=True)
    mix = (cases.sum(axis=0) + 1.0) / (cases.sum(axis=0) + 1.0).sum()
    prior_mean = (area_total + PRIOR_AREA_CASES) / weight_sum * mix[np.newaxis, :]
    shape = cases + PRIOR_CASES
    rate = np.full(cases.shape, weight_sum) + PRIOR_CASES / prior_mean
    return shape, rate


def evaluate(counts: Counts, county_totals: npt.NDArray[np.float64], *, today: date, share_of_today: float,
             rules: WarningRules) -> Evaluation:
    """Every area × category that warns today.

    ``counts``: cases per local day × area × category, the last ``history_days(rules)`` days
    ending today (today so far); ``county_totals``: the county's cases per local day ending today
    (up to ``season_days(rules)`` of them; fewer switch the season off); ``share_of_today``: see
    :func:`day_share`.
    """
    span = history_days(rules)
    longest = max(rules.windows)
    if counts.shape[0] < span:
        raise ValueError(f"evaluate needs {span} days of counts, got {counts.shape[0]}")
    counts = counts[-span:]
    totals = np.asarray(county_totals, dtype=np.float64)
    first = today - timedelta(days=span - 1)
    baseline_days = span - longest
    baseline = (first, first + timedelta(days=baseline_days - 1))
    base_totals = totals[-span:-longest] if totals.size >= span else counts[:-longest].sum(axis=(1, 2)).astype(np.float64)
    factors = weekday_factors(base_totals, first)
    weight_sum = float(factors[(first.weekday() + np.arange(baseline_days)) % 7].sum())
    level_cases, rate = posterior(counts[:-longest], weight_sum)

    recent = [today - timedelta(days=k) for k in range(longest - 1, -1, -1)]
    exposure = np.array([factors[d.weekday()] * season_factor(totals, today, d, baseline)
                         * (share_of_today if d == today else 1.0) for d in recent])
    budget = rules.false_warnings_per_week / 7
    windows = sorted(rules.windows)
    tmin = []
    for w in windows:
        q = rate / (rate + float(exposure[-w:].sum()))
        tmin.append(nbinom.sf(rules.min_count - 1, level_cases, q))
    alpha = min(rules.max_p, allocate_alpha(np.concatenate([t.ravel() for t in tmin]), budget))

    best: dict[tuple[int, int], Finding] = {}
    for w in windows:
        window_exposure = float(exposure[-w:].sum())
        q = rate / (rate + window_exposure)
        observed = counts[-w:].sum(axis=0)
        areas, categories = np.nonzero(observed >= rules.min_count)
        if areas.size == 0:
            continue
        shape, scale = level_cases[areas, categories], rate[areas, categories]
        seen = observed[areas, categories]
        p = nbinom.sf(seen - 1, shape, q[areas, categories])
        for a, c, o, s, r, pv in zip(areas.tolist(), categories.tolist(), seen.tolist(), shape.tolist(),
                                     scale.tolist(), p.tolist(), strict=True):
            if pv > alpha:
                continue
            found = Finding(a, c, w, int(o), s * window_exposure / r, float(pv))
            held = best.get((a, c))
            if held is None or found.p < held.p:
                best[(a, c)] = found
    findings = sorted(best.values(), key=lambda f: (f.p, f.area, f.category))
    return Evaluation(alpha=alpha, tests=int(sum(t.size for t in tmin)), findings=findings)
