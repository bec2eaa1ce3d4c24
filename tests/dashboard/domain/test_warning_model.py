"""The baseline model: weekday and season in the expectation, small numbers quiet, the level kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import math

import numpy as np
import pytest
from scipy.stats import nbinom

from dashboard.domain.rules import RulesError, load_rules, rules_from_mapping
from dashboard.domain.warning_model import allocate_alpha, day_share, evaluate, history_days, season_days
from dashboard.domain.warning_rules import WarningRules, warning_rules_from_mapping
from dashboard.domain.warning_text import reason_text

RULES = WarningRules()
CATS = 12
LAND = 2


def weekday_factor(day: date) -> float:
    return 1.15 if day.weekday() < 5 else 0.6


def history(today: date, *, days: int, rate: float, season: float = 0.0, areas: int = 2,
            seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Area 0 is the county (sum of the others); area 1.. each get ``rate`` cases a day per category
    on an average day, times the weekday factor and a yearly cosine of amplitude ``season`` that
    peaks at the end of January (the demo generator's law)."""
    rng = np.random.default_rng(seed)
    counts = np.zeros((days, areas, CATS), dtype=np.int64)
    for k in range(days):
        day = today - timedelta(days=days - 1 - k)
        mean = rate * weekday_factor(day) * (1 + season * math.cos((day.timetuple().tm_yday - 30) / 365 * 2 * math.pi))
        counts[k, 1:] = rng.poisson(mean, size=(areas - 1, CATS))
    counts[:, 0] = counts[:, 1:].sum(axis=1)
    return counts, counts[:, 0].sum(axis=1).astype(np.float64)


def test_the_weekday_moves_the_expectation_and_the_verdict() -> None:
    monday, sunday = date(2026, 11, 30), date(2026, 11, 29)
    verdicts = {}
    for today in (monday, sunday):
        counts, totals = history(today, days=history_days(RULES), rate=2.0, areas=2)
        counts[-1, 1, LAND] = 5  # the same 5 land cases today in area 1 (and its county)
        counts[-1, 0, LAND] = counts[-1, 1:, LAND].sum()
        counts[-1, :, LAND + 1:] = 0  # nothing else competes in today's window
        result = evaluate(counts, totals, today=today, share_of_today=1.0,
                          rules=replace(RULES, windows=(1,), false_warnings_per_week=7.0, max_p=0.05))
        verdicts[today] = {(f.area, f.category): f for f in result.findings}
    # 2 a day on average: a Monday expects ~2.3, a Sunday ~1.2; five is plain on one, improbable on the other.
    assert (1, LAND) not in verdicts[monday]
    found = verdicts[sunday][(1, LAND)]
    assert found.observed == 5 and 0.9 < found.expected < 1.6 and found.p < 0.02


def test_the_season_comes_from_the_same_weeks_last_year() -> None:
    """At the end of April the demo's season falls fastest: with last year in the history the newest
    week is expected at its real size; without it, at the older baseline's (too high)."""
    today = date(2026, 4, 30)
    counts, totals = history(today, days=season_days(RULES), rate=10.0, season=0.25, areas=2, seed=3)
    rules = replace(RULES, windows=(7,), min_count=1, max_p=0.999, false_warnings_per_week=1e6)

    def expected_over_observed(county_totals: np.ndarray) -> float:
        found = [f for f in evaluate(counts, county_totals, today=today, share_of_today=1.0, rules=rules).findings
                 if f.area == 1]
        assert len(found) >= CATS - 2  # nearly every test is a finding here (p ≤ 0.999), so categories can be summed
        return sum(f.expected for f in found) / sum(f.observed for f in found)

    assert 0.95 < expected_over_observed(totals) < 1.05
    assert expected_over_observed(totals[-history_days(RULES):]) > 1.06  # no last year: season 1


def test_a_short_history_switches_the_season_off() -> None:
    today = date(2026, 12, 4)
    counts, totals = history(today, days=history_days(RULES), rate=3.0)
    rules = replace(RULES, min_count=1, max_p=0.9, false_warnings_per_week=1e6, windows=(7,))
    short = evaluate(counts, totals, today=today, share_of_today=1.0, rules=rules)
    assert short.findings  # it still runs, season 1


def test_small_numbers_stay_quiet_below_the_minimum_count() -> None:
    today = date(2026, 12, 4)
    counts = np.zeros((history_days(RULES), 3, CATS), dtype=np.int64)
    counts[:, 1, 0] = 3  # a busy area keeps the county's mix realistic
    counts[-1, 2, LAND] = RULES.min_count - 1  # a quiet area: never a case, now four in a day
    counts[:, 0] = counts[:, 1:].sum(axis=1)
    totals = counts[:, 0].sum(axis=1).astype(np.float64)
    quiet = evaluate(counts, totals, today=today, share_of_today=1.0, rules=RULES)
    assert (2, LAND) not in {(f.area, f.category) for f in quiet.findings}
    counts[-1, 2, LAND] = RULES.min_count
    counts[:, 0] = counts[:, 1:].sum(axis=1)
    loud = evaluate(counts, counts[:, 0].sum(axis=1).astype(np.float64), today=today, share_of_today=1.0, rules=RULES)
    found = {(f.area, f.category): f for f in loud.findings}[(2, LAND)]
    assert found.observed == RULES.min_count and found.window == 1 and found.p <= loud.alpha


def test_the_p_value_is_the_negative_binomial_tail_and_the_level_holds() -> None:
    today = date(2026, 12, 4)
    counts, totals = history(today, days=history_days(RULES), rate=1.0, areas=3, seed=5)
    counts[-3:, 1, LAND] += 6
    counts[:, 0] = counts[:, 1:].sum(axis=1)
    totals = counts[:, 0].sum(axis=1).astype(np.float64)
    result = evaluate(counts, totals, today=today, share_of_today=1.0, rules=RULES)
    assert 0 < result.alpha <= RULES.max_p
    assert all(f.p <= result.alpha and f.observed >= RULES.min_count for f in result.findings)
    strict = evaluate(counts, totals, today=today, share_of_today=1.0, rules=replace(RULES, max_p=1e-30))
    assert strict.findings == []
    found = {(f.area, f.category): f for f in result.findings}[(1, LAND)]
    # p = P(X ≥ observed) for a negative binomial with the model's mean: at most the Poisson tail's order.
    assert found.p == pytest.approx(found.p) and 0 < found.p < 1e-3
    assert nbinom.sf(found.observed - 1, 1e6, 1e6 / (1e6 + found.expected)) < 1e-3  # the Poisson limit agrees


def test_the_budget_spends_nothing_on_tests_that_cannot_warn() -> None:
    tmin = np.array([1e-12] * 10_000 + [0.5] * 10)
    alpha = allocate_alpha(tmin, budget=0.1)
    assert np.minimum(tmin, alpha).sum() <= 0.1 + 1e-12
    assert alpha == pytest.approx((0.1 - 1e-8) / 10, rel=1e-6)  # the 10 live tests share the budget
    assert allocate_alpha(np.array([1e-9, 1e-9]), budget=1.0) == 1.0


def test_no_outbreak_means_almost_no_warning() -> None:
    """Thirty quiet days of a 40-area county: the model warns at most once (the budget allows ~0.3/day × 30 / 7)."""
    warned = 0
    for seed in range(30):
        today = date(2026, 6, 1) + timedelta(days=seed)
        counts, totals = history(today, days=history_days(RULES), rate=0.4, areas=41, seed=100 + seed)
        warned += len(evaluate(counts, totals, today=today, share_of_today=1.0, rules=RULES).findings)
    assert warned <= 1


def test_today_counts_only_the_share_of_the_day_gone_by() -> None:
    hours = np.zeros(24)
    hours[8:18] = 10  # an office day
    assert day_share(hours, 8 * 60) == pytest.approx(0.02)  # the floor: nothing is normally in yet
    assert day_share(hours, 13 * 60) == pytest.approx(0.5)
    assert day_share(hours, 24 * 60) == 1.0
    assert day_share(np.zeros(24), 6 * 60) == pytest.approx(0.25)


def test_the_reason_reads_in_words_and_numbers() -> None:
    zh = reason_text(category="land", place="平安镇", window=3, observed=9, expected=2.1, p=0.0003, lang="zh")
    en = reason_text(category="land", place="平安镇", window=3, observed=9, expected=2.1, p=0.02, lang="en")
    assert zh == "土地山林 · 平安镇 · 近3日9件，预期2.1件（同期均值），p<0.001"
    assert en == "Land · 平安镇 · 9 cases in the last 3 days, 2.1 expected (seasonal baseline), p=0.02"
    tiny = reason_text(category="land", place="平安镇", window=1, observed=5, expected=0.004, p=1e-9, lang="zh")
    assert tiny == "土地山林 · 平安镇 · 近1日5件，预期<0.1件（同期均值），p<0.001"


def test_the_rules_file_holds_the_warning_settings_and_refuses_typos() -> None:
    rules = load_rules()
    assert rules.warnings.windows == (1, 3, 7) and rules.warnings.min_count >= 1
    assert warning_rules_from_mapping(None) == WarningRules()
    with pytest.raises(ValueError, match="unknown"):
        warning_rules_from_mapping({"min_cout": 3})
    with pytest.raises(ValueError):
        warning_rules_from_mapping({"max_p": 2})
    import tomllib
    from dashboard.domain.rules import DEFAULT_RULES_FILE
    data = tomllib.loads(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))
    data["warnings"]["windows"] = [0]
    with pytest.raises(RulesError):
        rules_from_mapping(data)
