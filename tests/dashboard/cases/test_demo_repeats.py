"""The demo in the duty console: on the demo county (Shulan, 248 villages), a backfilled fortnight
goes through the write path's real arrival check. Few cases get a false 可能为同一事项 (each case
used to carry its category's one fixed text, so every two cases of a category in a village and week
looked alike), while every planted cross-channel repeat is suggested with the report it repeats."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from shapely import to_geojson
from sqlalchemy import select

from dashboard.cases import demo
from dashboard.cli.county import DEMO_FILES
from dashboard.domain.periods import local_date
from dashboard.imports import onboarding
from dashboard.runtime import Runtime
from data_access.models import Case, MatterSuggestion
from geo import sources
from geo.generate import GeneratedCounty

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
DAYS = 14
SEED = 20260101


@pytest.fixture(scope="module")
def shulan() -> GeneratedCounty:
    return onboarding.load_county_files(outline=DEMO_FILES["outline"], townships=DEMO_FILES["townships"],
                                        villages=DEMO_FILES["villages"], crs="wgs84", seat=DEMO_FILES["seat"],
                                        grid_target=None)


@pytest.fixture
def demo_county(runtime: Runtime, shulan: GeneratedCounty) -> str:
    outline = to_geojson(sources.read_outline(DEMO_FILES["outline"], crs="wgs84"))
    with runtime.sessions() as session, session.begin():
        report = onboarding.save_county(session, shulan, name="舒兰市", now=NOW - timedelta(days=500),
                                        outline_geojson=outline)
    return report.county_code


def _planted(runtime: Runtime, days: list[date]) -> dict[str, str]:
    """Each planted repeat's reference → the reference of the case it repeats, as the generator drew them."""
    history = demo.History(demo.CaseFactory(runtime.cases, random.Random(SEED)), SEED)
    return {case.draft.external_ref: case.repeats for day in days for case in history.day(day) if case.repeats}


def test_a_backfilled_fortnight_suggests_its_planted_repeats_and_little_else(runtime: Runtime, demo_county: str) -> None:
    written = demo.backfill(runtime.cases, days=DAYS, now=NOW, seed=SEED)
    with runtime.sessions() as session:
        rows = session.execute(select(Case.id, Case.external_ref, Case.source, Case.category, Case.village_code,
                                      Case.received_at, Case.description)).all()
        pairs = {frozenset(p) for p in session.execute(select(MatterSuggestion.case_id, MatterSuggestion.other_id))}
    assert len(rows) == written > 800
    by_ref = {row.external_ref: row for row in rows}

    texts = Counter(row.category for row in rows)
    category, count = texts.most_common(1)[0]
    distinct = len({row.description for row in rows if row.category == category})
    assert distinct >= 0.97 * count, f"{category}: {distinct} distinct texts of {count}"

    today = local_date(NOW)
    planted = {ref: first for ref, first in _planted(runtime, [today - timedelta(days=d) for d in range(DAYS)]).items()
               if ref in by_ref and first in by_ref}
    assert 0.01 * written <= len(planted) <= 0.04 * written, f"{len(planted)} repeats among {written} cases"
    true_pairs = set()
    for ref, first in planted.items():
        again, original = by_ref[ref], by_ref[first]
        assert again.source != original.source, "a repeat comes through another channel"
        assert again.village_code == original.village_code
        assert timedelta(0) < again.received_at - original.received_at <= demo.REPEAT_WITHIN
        assert again.description != original.description, "told anew"
        true_pairs.add(frozenset((again.id, original.id)))
    found = true_pairs & pairs
    assert len(found) >= 0.95 * len(true_pairs), f"{len(found)} of {len(true_pairs)} planted repeats suggested"

    false_cases = {case_id for pair in pairs - true_pairs for case_id in pair}
    assert len(false_cases) <= 0.05 * written, (
        f"{len(pairs - true_pairs)} false suggestions touching {len(false_cases)} of {written} cases")
