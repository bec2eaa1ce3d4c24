"""The live demo feed plants repeats too: a new case now and then reports again, through another
channel, a dispute the feed reported minutes before, and the write path's arrival check suggests
the two as one matter."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dashboard.cases import demo
from dashboard.cases.casework import CaseDraft
from dashboard.runtime import Runtime
from data_access.models import Case, MatterSuggestion

START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def test_the_live_feed_reports_a_dispute_again_and_the_console_is_told(
        runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    planted: list[tuple[str, str]] = []
    repeat: Callable[..., CaseDraft] = demo.CaseFactory.repeat

    def spy(self: demo.CaseFactory, rng: object, original: demo.DemoCase, received_at: datetime, ref: str) -> CaseDraft:
        planted.append((ref, original.draft.external_ref))
        return repeat(self, rng, original, received_at, ref)

    monkeypatch.setattr(demo.CaseFactory, "repeat", spy)
    monkeypatch.setattr(demo, "REPEAT_SHARE", 0.2)  # more of them, so a short run holds several
    minutes = itertools.count()
    demo.live(runtime.cases, rate=10_000, seed=7, limit=150, clock=lambda: START + timedelta(minutes=next(minutes)))

    assert len(planted) >= 3
    with runtime.sessions() as session:
        cases = {ref: (case_id, source, village, at) for case_id, ref, source, village, at in session.execute(
            select(Case.id, Case.external_ref, Case.source, Case.village_code, Case.received_at))}
        pairs = {frozenset(p) for p in session.execute(select(MatterSuggestion.case_id, MatterSuggestion.other_id))}
    for ref, first in planted:
        again, original = cases[ref], cases[first]
        assert again[1] != original[1], "another channel"
        assert again[2] == original[2], "the same village"
        assert timedelta(0) < again[3] - original[3] <= demo.REPEAT_WITHIN
        assert frozenset((again[0], original[0])) in pairs, f"{ref} is suggested with {first}"
