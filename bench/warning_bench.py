"""Early warning, measured: the demo county's history replayed with outbreaks injected, the new
baseline model (``dashboard.domain.warning_model``) against the current 3σ area rule side by side.

``python -m bench.warning_bench [--replicates 4] [--seed 16] [--json]``

What is replayed. The demo generator's own law (``dashboard.cases.demo``: 23,724 cases a year,
weekdays 1.15 and weekends 0.6 of the mean, a ±25 % yearly cosine with its peak in late January,
a day-to-day spread of 6 cases, its category weights, community grids 2.5× as busy) over Shulan's
real 20 townships and 248 villages (``../shared/data/shulan``), with 1,860 grids shared out
evenly among the villages (counting needs no geometry). Daily counts are drawn in memory, per
grid × category; two years of history come first, then 52 weeks are evaluated at the end of each
day, as the job would see them at midnight.

Outbreaks. One per week, starting on a random day of it: a known area (the county or, as
often, one of its townships), a known category, and 2× that area × category's true expected count added over three
days (so the three days hold 3× expected), spread over the area's grids by their weights.

Scoring, for both methods:
- **recall**: an outbreak counts as found when its area warns (new method: in its category;
  3σ rule: the area spikes, whatever the category) on one of its three days or the day after;
- **false warnings per week per county**: warnings that start (an area × category not warned the
  day before; 3σ: an area not raised the day before) and belong to no outbreak (an outbreak's
  area, the areas above or below it, from its first day to a week after its last; the new method
  also needs the outbreak's category);
- **days to first warning**: from the outbreak's first day (0) to the first warning that finds it.

Recall is also given by the outbreak's expected 3-day count: three times a small number is still a
small number, and no method can tell 1.5 cases from 0.5 at one false warning a week.
Results: ``bench/results/warnings.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench.table import Column, render
from dashboard.cases.demo import CATEGORY_WEIGHTS, DAILY_MEAN
from dashboard.domain.rules import load_rules
from dashboard.domain.vocabulary import Category
from dashboard.domain.warning_model import evaluate, history_days, season_days
from dashboard.domain.warning_rules import WarningRules

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "shulan"
RESULTS = Path(__file__).resolve().parent / "results" / "warnings.json"
GRIDS = 1860
EVAL_WEEKS = 52
OUTBREAK_DAYS = 3
OUTBREAK_FACTOR = 3.0
FOUND_BY = OUTBREAK_DAYS + 1
"""An outbreak is found if a warning comes on one of its days or the day after."""
RELATED_AFTER = 7
"""Warnings up to this many days after an outbreak's last day still belong to it."""
BANDS = ((0.0, 2.0), (2.0, 5.0), (5.0, 10.0), (10.0, math.inf))
GOAL_RECALL, GOAL_FALSE_PER_WEEK = 0.9, 1.0


@dataclass(frozen=True)
class County:
    """Areas in the model's order: county, townships, villages, grids; each with its parent chain."""

    codes: list[str]
    level: list[str]
    ancestors: list[set[int]]
    grid_weight: np.ndarray
    grid_rows: np.ndarray
    """Row indexes of the grids in ``codes``."""
    rollup: np.ndarray
    """(areas × grids) 0/1: which grids each area sums."""


def load_county() -> County:
    with (DATA / "shulan_220283_townships.csv").open(encoding="utf-8") as handle:
        townships = [row["code"] for row in csv.DictReader(handle)]
    with (DATA / "shulan_220283_villages.csv").open(encoding="utf-8") as handle:
        villages = [(row["code"], row["parent_code"], row["type"].startswith("community")) for row in csv.DictReader(handle)]
    per_village = np.full(len(villages), GRIDS // len(villages))
    per_village[: GRIDS - per_village.sum()] += 1
    grids: list[tuple[str, str, str, bool]] = []
    for (code, township, community), n in zip(villages, per_village, strict=True):
        grids += [(f"{code}{k:03d}", code, township, community) for k in range(n)]
    codes = ["220283", *townships, *(v[0] for v in villages), *(g[0] for g in grids)]
    index = {c: i for i, c in enumerate(codes)}
    level = ["county"] + ["township"] * len(townships) + ["village"] * len(villages) + ["grid"] * len(grids)
    ancestors: list[set[int]] = [set() for _ in codes]
    for code, township in ((v[0], v[1]) for v in villages):
        ancestors[index[code]] = {0, index[township]}
    for t in townships:
        ancestors[index[t]] = {0}
    rollup = np.zeros((len(codes), len(grids)), dtype=np.int64)
    for g, (code, village, township, _) in enumerate(grids):
        row = index[code]
        ancestors[row] = {0, index[township], index[village]}
        for a in (0, index[township], index[village], row):
            rollup[a, g] = 1
    weight = np.array([2.5 if g[3] else 1.0 for g in grids])
    return County(codes, level, ancestors, weight / weight.sum(), np.arange(len(codes) - len(grids), len(codes)), rollup)


def day_mean(day: date) -> float:
    """The demo's expected cases on ``day`` (``demo._day_plans``)."""
    season = 1.0 + 0.25 * math.cos((day.timetuple().tm_yday - 30) / 365 * 2 * math.pi)
    return DAILY_MEAN * season * (1.15 if day.weekday() < 5 else 0.6)


CATEGORIES = list(Category)
CATEGORY_SHARE = np.array([CATEGORY_WEIGHTS[c] for c in CATEGORIES], dtype=np.float64)
CATEGORY_SHARE /= CATEGORY_SHARE.sum()


@dataclass
class Outbreak:
    area: int
    category: int
    start: int
    """Day index in the replay."""
    expected: float
    added: int
    found_new: int | None = None
    found_sigma: int | None = None


@dataclass
class Replay:
    days: list[date]
    grid_counts: np.ndarray
    """(days, grids, categories)."""
    outbreaks: list[Outbreak] = field(default_factory=list)


def simulate(county: County, first: date, n_days: int, eval_from: int, rng: np.random.Generator) -> Replay:
    days = [first + timedelta(days=k) for k in range(n_days)]
    joint = np.outer(county.grid_weight, CATEGORY_SHARE).ravel()
    counts = np.zeros((n_days, county.grid_weight.size, len(CATEGORIES)), dtype=np.int64)
    for k, day in enumerate(days):
        n = max(0, int(rng.normal(day_mean(day), 6)))
        counts[k] = rng.multinomial(n, joint).reshape(counts.shape[1:])
    replay = Replay(days, counts)
    # One outbreak a week in the evaluated stretch, at the county or a township.
    townships = [a for a, lv in enumerate(county.level) if lv == "township"]
    for week_start in range(eval_from, n_days - 7 - OUTBREAK_DAYS, 7):
        area = 0 if rng.random() < 0.5 else int(rng.choice(townships))
        category = int(rng.choice(len(CATEGORIES), p=CATEGORY_SHARE))
        start = week_start + int(rng.integers(0, 7))
        grid_share = county.rollup[area] * county.grid_weight
        expected = float(sum(day_mean(days[start + d]) for d in range(OUTBREAK_DAYS))
                         * CATEGORY_SHARE[category] * grid_share.sum())
        added = int(round((OUTBREAK_FACTOR - 1) * expected))
        per_day = rng.multinomial(added, [day_mean(days[start + d]) for d in range(OUTBREAK_DAYS)]
                                  / np.sum([day_mean(days[start + d]) for d in range(OUTBREAK_DAYS)]))
        for d, extra in enumerate(per_day):
            counts[start + d, :, category] += rng.multinomial(extra, grid_share / grid_share.sum())
        replay.outbreaks.append(Outbreak(area, category, start, expected, added))
    return replay


def sigma_spikes(area_totals: np.ndarray, k: int, baseline_days: int, sigmas: float, min_cases: int) -> np.ndarray:
    """The current area rule (``alerts.is_spike``): today's cases above the previous days' mean by
    ``sigmas`` population standard deviations, and at least ``min_cases``."""
    base = area_totals[max(0, k - baseline_days) : k].astype(np.float64)
    today = area_totals[k]
    if base.shape[0] == 0:
        return np.zeros(today.shape, dtype=bool)
    return (today >= min_cases) & (today > base.mean(axis=0) + sigmas * base.std(axis=0))


def rollup(county: County, grid_counts: np.ndarray) -> np.ndarray:
    """Days × areas × categories, every area the sum of its grids (one matrix product, BLAS)."""
    days, grids, cats = grid_counts.shape
    flat = grid_counts.transpose(1, 0, 2).reshape(grids, days * cats).astype(np.float32)
    summed = county.rollup.astype(np.float32) @ flat
    return np.rint(summed).astype(np.int64).reshape(-1, days, cats).transpose(1, 0, 2).copy()


def related(county: County, outbreak: Outbreak, area: int) -> bool:
    return area == outbreak.area or outbreak.area in county.ancestors[area] or area in county.ancestors[outbreak.area]


def run_replicate(county: County, rules: WarningRules, sigma_rules: Any, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    need = season_days(rules)
    n_days = need + EVAL_WEEKS * 7
    first = date(2024, 1, 1) + timedelta(days=int(rng.integers(0, 364)))
    replay = simulate(county, first, n_days, need, rng)
    area_counts = rollup(county, replay.grid_counts)
    area_totals = area_counts.sum(axis=2)
    county_totals = area_totals[:, 0].astype(np.float64)
    span = history_days(rules)

    new_warned_yesterday: set[tuple[int, int]] = set()
    sigma_yesterday: set[int] = set()
    false_new = false_sigma = 0
    alphas: list[float] = []
    seconds = 0.0
    for k in range(need, n_days):
        started = time.perf_counter()
        result = evaluate(area_counts[k - span + 1 : k + 1], county_totals[max(0, k - need + 1) : k + 1],
                          today=replay.days[k], share_of_today=1.0, rules=rules)
        seconds += time.perf_counter() - started
        alphas.append(result.alpha)
        warned = {(f.area, f.category) for f in result.findings}
        spiking = set(np.flatnonzero(sigma_spikes(area_totals, k, sigma_rules.spike_baseline_days,
                                                  sigma_rules.spike_sigmas, sigma_rules.spike_min_cases)).tolist())
        live = [o for o in replay.outbreaks if o.start <= k < o.start + OUTBREAK_DAYS + RELATED_AFTER]
        for area, category in warned - new_warned_yesterday:
            if not any(o.category == category and related(county, o, area) for o in live):
                false_new += 1
        for area in spiking - sigma_yesterday:
            if not any(related(county, o, area) for o in live):
                false_sigma += 1
        for o in live:
            if k - o.start < FOUND_BY:
                if o.found_new is None and (o.area, o.category) in warned:
                    o.found_new = k - o.start
                if o.found_sigma is None and o.area in spiking:
                    o.found_sigma = k - o.start
        new_warned_yesterday, sigma_yesterday = warned, spiking
    weeks = (n_days - need) / 7
    return {"outbreaks": replay.outbreaks, "weeks": weeks, "false_new": false_new, "false_sigma": false_sigma,
            "alpha_median": float(np.median(alphas)), "evaluate_ms": 1000 * seconds / (n_days - need)}


def summarise(outbreaks: list[Outbreak], weeks: float, false_new: int, false_sigma: int) -> dict[str, Any]:
    def method(found: list[int | None], false: int) -> dict[str, Any]:
        hits = [f for f in found if f is not None]
        return {"recall": len(hits) / len(found) if found else None, "false_per_week": false / weeks,
                "days_to_first_mean": float(np.mean(hits)) if hits else None,
                "days_to_first_median": float(np.median(hits)) if hits else None}

    rows = {"new": method([o.found_new for o in outbreaks], false_new),
            "sigma": method([o.found_sigma for o in outbreaks], false_sigma)}
    bands = []
    for low, high in BANDS:
        inside = [o for o in outbreaks if low <= o.expected < high]
        if inside:
            bands.append({"band": f"{low:g}–{high:g}" if high < math.inf else f"≥{low:g}", "outbreaks": len(inside),
                          "recall_new": sum(o.found_new is not None for o in inside) / len(inside),
                          "recall_sigma": sum(o.found_sigma is not None for o in inside) / len(inside)})
    return {"methods": rows, "bands": bands}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=4)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--false-per-week", type=float, default=None,
                        help="override [warnings] false_warnings_per_week (to study the trade-off)")
    parser.add_argument("--max-p", type=float, default=None, help="override [warnings] max_p")
    args = parser.parse_args()
    full = load_rules()
    rules = full.warnings
    if args.false_per_week is not None:
        rules = replace(rules, false_warnings_per_week=args.false_per_week)
    if args.max_p is not None:
        rules = replace(rules, max_p=args.max_p)
    county = load_county()
    started = time.perf_counter()
    outbreaks: list[Outbreak] = []
    weeks = 0.0
    false_new = false_sigma = 0
    alphas, evaluate_ms = [], []
    for r in range(args.replicates):
        result = run_replicate(county, rules, full, args.seed * 1000 + r)
        outbreaks += result["outbreaks"]
        weeks += result["weeks"]
        false_new += result["false_new"]
        false_sigma += result["false_sigma"]
        alphas.append(result["alpha_median"])
        evaluate_ms.append(result["evaluate_ms"])
    summary = summarise(outbreaks, weeks, false_new, false_sigma)
    strong = [o for o in outbreaks if o.expected >= 5.0]
    summary["goal_stratum"] = {"definition": "outbreaks whose area × category expects ≥ 5 cases in 3 days",
                               **summarise(strong, weeks, false_new, false_sigma)["methods"]}
    new, sigma = summary["methods"]["new"], summary["methods"]["sigma"]
    goal = summary["goal_stratum"]
    summary["goal"] = {
        "recall_at_least": GOAL_RECALL, "false_per_week_at_most": GOAL_FALSE_PER_WEEK,
        "met": bool(goal["new"]["recall"] >= GOAL_RECALL and new["false_per_week"] <= GOAL_FALSE_PER_WEEK
                    and goal["new"]["recall"] > goal["sigma"]["recall"] and new["false_per_week"] < sigma["false_per_week"]),
    }
    summary["setup"] = {
        "replicates": args.replicates, "seed": args.seed, "weeks_evaluated": weeks, "outbreaks": len(outbreaks),
        "areas": len(county.codes), "categories": len(CATEGORIES), "windows": list(rules.windows),
        "tests_per_day": len(county.codes) * len(CATEGORIES) * len(rules.windows),
        "rules": {k: getattr(rules, k) for k in ("baseline_weeks", "min_count", "false_warnings_per_week", "max_p")},
        "sigma_rule": {"baseline_days": full.spike_baseline_days, "sigmas": full.spike_sigmas,
                       "min_cases": full.spike_min_cases},
        "alpha_median": float(np.median(alphas)), "evaluate_ms_per_day": float(np.mean(evaluate_ms)),
        "seconds": time.perf_counter() - started,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    target = RESULTS if args.false_per_week is None and args.max_p is None else RESULTS.with_name(
        f"warnings-fpw{rules.false_warnings_per_week:g}-p{rules.max_p:g}.json")
    target.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    table = [
        {"method": "baseline model (new)", "stratum": "all", **new},
        {"method": "3σ area rule (current)", "stratum": "all", **sigma},
        {"method": "baseline model (new)", "stratum": "expected ≥ 5", **goal["new"]},
        {"method": "3σ area rule (current)", "stratum": "expected ≥ 5", **goal["sigma"]},
    ]
    columns = [Column("method", "method"), Column("stratum", "outbreaks"), Column("recall", "recall", ".2f"),
               Column("false_per_week", "false warnings / week / county", ".2f"),
               Column("days_to_first_mean", "days to first warning (mean)", ".2f"),
               Column("days_to_first_median", "(median)", ".1f")]
    print(render(table, columns))
    print()
    print(render(summary["bands"], [Column("band", "expected cases in 3 days"), Column("outbreaks", "outbreaks"),
                                    Column("recall_new", "recall new", ".2f"), Column("recall_sigma", "recall 3σ", ".2f")]))
    print(f"\n{len(outbreaks)} outbreaks over {weeks:.0f} weeks; median alpha {summary['setup']['alpha_median']:.2e}; "
          f"evaluate {summary['setup']['evaluate_ms_per_day']:.1f} ms per day; goal met: {summary['goal']['met']}")


if __name__ == "__main__":
    main()
